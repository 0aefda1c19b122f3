"""Display of money, volumes and months: the one place templates format them (docs/architecture.md §4)."""

from datetime import date

from django import template

from vodokanal.common.amount_words import rub, rub_abs
from vodokanal.common.russian import m3, month_ru, percent

register = template.Library()

register.filter(rub)
register.filter(rub_abs)
register.filter(m3)
register.filter(month_ru)
register.filter(percent)


@register.filter
def label(figures, kind: str) -> str:
    """An account's figure's label on its day: {{ figures|label:"overdue" }} ->
    "Просроченный долг на 05.12.2026" (billing.selectors.FIGURE_LABELS)."""
    return figures.label(kind)


@register.filter
def figure_label(kind: str, on: date | None) -> str:
    """{{ "penalty"|figure_label:on }} -> "Пени на 05.12.2026": a document's figures under
    the labels of the pages (billing.selectors.FIGURE_LABELS)."""
    from billing.selectors import figure_label as label_of

    return label_of(kind, on)
