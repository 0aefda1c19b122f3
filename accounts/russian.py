"""Russian text helpers shared by every app (the leftmost app, so all may import it):
plural forms, dates and volumes as a Russian reader writes them."""

from datetime import date
from decimal import Decimal


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """Pick the Russian plural form agreeing with ``n``.

    ``one`` for 1, 21, 101 (but not 11, 111), ``few`` for 2-4, 22-24 (but not 12-14),
    ``many`` for everything else: 0, 5-20, 25-30, 111-114, ...
    """
    n = abs(n)
    if 11 <= n % 100 <= 14:
        return many
    if n % 10 == 1:
        return one
    if 2 <= n % 10 <= 4:
        return few
    return many


def ru_date(value: date) -> str:
    """24.11.2026"""
    return value.strftime("%d.%m.%Y")


def ru_volume(value: Decimal) -> str:
    """A volume in m3 with three decimals and the decimal comma: 123,456."""
    return f"{value:.3f}".replace(".", ",")
