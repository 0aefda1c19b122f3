"""Amounts in words (сумма прописью) for claims, court documents and receipts.

The rule and its pitfalls are in docs/formats.md §5. The roubles are spelled by
``num2words(int, lang="ru")`` and the currency words are chosen here: num2words' own
``to="currency"`` mode takes an ``int`` as kopecks, so we never use it.
"""

from decimal import Decimal

from num2words import num2words

from vodokanal.common.money import to_kopecks
from vodokanal.common.russian import plural_ru

NBSP = "\u00a0"
ROUBLE_SIGN = "₽"

ROUBLE_FORMS = ("рубль", "рубля", "рублей")
KOPECK_FORMS = ("копейка", "копейки", "копеек")


def _split(amount: Decimal) -> tuple[int, int]:
    """Validate ``amount`` and return it as whole roubles and kopecks, rounded once."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"amount must be a finite number, not {amount}")
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    total_kopecks = int(to_kopecks(amount).scaleb(2))
    return divmod(total_kopecks, 100)


def amount_in_words(amount: Decimal) -> str:
    """Spell an amount the way documents do: roubles in words, kopecks as two digits.

    ``Decimal("1234.56")`` -> ``"одна тысяча двести тридцать четыре рубля 56 копеек"``.
    The amount is rounded to kopecks by ``to_kopecks`` first (1.005 -> 1.01).
    Raises TypeError for anything but a Decimal and ValueError for a negative or
    non-finite amount.
    """
    roubles, kopecks = _split(amount)
    words = num2words(roubles, lang="ru")
    return (
        f"{words} {plural_ru(roubles, *ROUBLE_FORMS)} "
        f"{kopecks:02d} {plural_ru(kopecks, *KOPECK_FORMS)}"
    )


def format_rub(amount: Decimal) -> str:
    """Format an amount in figures: ``Decimal("1234.56")`` -> ``"1 234,56 ₽"``.

    Thousands are grouped with non-breaking spaces (U+00A0), the decimal separator is a
    comma, and the rouble sign is attached with a non-breaking space so it never wraps
    onto its own line. Same validation and rounding as ``amount_in_words``.
    """
    roubles, kopecks = _split(amount)
    grouped = f"{roubles:,}".replace(",", NBSP)
    return f"{grouped},{kopecks:02d}{NBSP}{ROUBLE_SIGN}"


def amount_with_words(amount: Decimal) -> str:
    """Amount in figures followed by the amount in words, as claims and court papers write it.

    ``Decimal("1234.56")`` ->
    ``"1 234,56 ₽ (одна тысяча двести тридцать четыре рубля 56 копеек)"``
    (the spaces inside the figure and before ``₽`` are U+00A0).
    """
    return f"{format_rub(amount)} ({amount_in_words(amount)})"


# Money as pages and documents show it (the templates take these as filters too).


def rub(amount: Decimal | None) -> str:
    """Decimal("-1234.5") -> "−1 234,50 ₽" with non-breaking spaces; None -> ""."""
    if amount is None:
        return ""
    sign = "−" if amount < 0 else ""
    return sign + format_rub(abs(amount))


def rub_abs(amount: Decimal | None) -> str:
    """The amount without its sign, where the label says which way it goes (a debt or an
    overpayment): Decimal("-120") -> "120,00 ₽"."""
    return rub(abs(amount)) if amount is not None else ""
