"""`{% law "key" %}`: a legal citation from the one table (vodokanal/common/law.py)."""

from django import template

from vodokanal.common.law import LAW

register = template.Library()


@register.simple_tag
def law(key: str) -> str:
    return LAW[key]
