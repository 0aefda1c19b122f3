"""Calendar months as the portal counts them: a month is the date of its first day. The
bottom layer: imports no app."""

import calendar
from datetime import date


def month_start(on: date) -> date:
    """The month `on` is in (its first day)."""
    return on.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The month `count` months after (before, if negative) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """The last day of the month `month` is in."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])
