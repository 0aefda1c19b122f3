"""`{{ value|field }}`: the variable text of a PDF template (vodokanal/common/printing/pdf_forms.py).

A field is drawn over its form when documents are rendered in batches, so each sits alone
at the end of its line (or alone in a right-aligned cell) and holds plain text only. In a
single document it is an ordinary span."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter(is_safe=True)
def field(value: object) -> str:
    return format_html('<span class="f">{}</span>', "" if value is None else value)
