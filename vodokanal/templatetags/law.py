"""`{% law "key" %}`: a legal citation from the one table (vodokanal/law.py)."""

from django import template

from vodokanal.law import LAW

register = template.Library()


@register.simple_tag
def law(key: str) -> str:
    return LAW[key]
