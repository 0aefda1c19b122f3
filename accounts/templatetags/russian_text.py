"""Russian typography in templates: `{{ name|quoted }}` -> «ООО „Ромашка“»."""

from django import template

from vodokanal.common.russian import quoted as quoted_name

register = template.Library()


@register.filter
def quoted(name: object) -> str:
    return quoted_name(str(name))
