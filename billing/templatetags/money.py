"""Display of money, volumes and months: the one place templates format them (style §3)."""

from datetime import date
from decimal import Decimal

from django import template

from accounts.russian import ru_volume
from billing.amount_words import format_rub

register = template.Library()

MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


@register.filter
def rub(amount: Decimal | None) -> str:
    """Decimal("-1234.5") -> "−1 234,50 ₽" with non-breaking spaces; None -> ""."""
    if amount is None:
        return ""
    sign = "−" if amount < 0 else ""
    return sign + format_rub(abs(amount))


@register.filter
def rub_abs(amount: Decimal | None) -> str:
    """The amount without its sign, where the label says which way it goes (a debt or an
    overpayment): Decimal("-120") -> "120,00 ₽"."""
    return rub(abs(amount)) if amount is not None else ""


@register.filter
def m3(volume: Decimal | None) -> str:
    """Decimal("12.345") -> "12,345\u00a0м³"."""
    if volume is None:
        return ""
    return f"{ru_volume(volume)}\u00a0м³"


@register.filter
def month_ru(month: date | None) -> str:
    """date(2026, 11, 1) -> "ноябрь 2026"."""
    if month is None:
        return ""
    return f"{MONTHS[month.month - 1]} {month.year}"


@register.filter
def percent(rate: Decimal) -> str:
    """Decimal("16.50") -> "16,5 %"."""
    text = f"{rate.normalize():f}".replace(".", ",")
    return f"{text}\u00a0%"


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
