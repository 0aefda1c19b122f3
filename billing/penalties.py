"""The penalty engine (пени): pure functions over plain data.

No ORM, no settings, no clock: debts, payments, key rates, moratoria and caps all arrive as
arguments, so every worked example in docs/penalties.md §10 is a one-line test case. Each rule
names the section of docs/penalties.md it comes from. State court fees (docs/penalties.md §9) are
debtors' (debtors/court_fees.py).
"""

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Any, NamedTuple, TypeVar

from vodokanal.common.money import ZERO, to_kopecks

ONE_DAY = timedelta(days=1)
FREE_DAYS = 30  # days 1-30 of delay are free for individuals and housing cooperatives
LAST_1_300_DAY_UK = 60  # managing organisations: days 1-60 at 1/300, 61-90 at 1/170
LAST_1_300_DAY = 90  # then, for all but other subscribers, from day 91 at 1/130
KOPECK_EXPONENT = -2  # Decimal("0.01").as_tuple().exponent
DUE_DAY = 10  # due by the 10th of the following month (ЖК РФ ст. 155 ч. 1; ПП 644)

Choice = TypeVar("Choice", bound=StrEnum)


class DebtorCategory(StrEnum):
    """Who owes; decides the free days and fractions (docs/penalties.md §2; the citations are in
    vodokanal/common/law.py)."""

    INDIVIDUAL = "individual"  # days 1-30 free, 1/300 on days 31-90, 1/130 from day 91
    HOUSING_COOP = "housing_coop"  # ТСЖ, ЖСК: as individuals
    MANAGING_ORG = "managing_org"  # УК: 1/300 on days 1-60, 1/170 on 61-90, 1/130 from 91
    LEGAL = "legal"  # any other subscriber: 1/130 from day 1

    @property
    def free_days(self) -> int:
        """Days of delay without penalty."""
        return FREE_DAYS if self in (DebtorCategory.INDIVIDUAL, DebtorCategory.HOUSING_COOP) else 0


class RateMode(StrEnum):
    """Which key rate a day of delay uses (docs/penalties.md §3)."""

    PAYMENT_DAY = "payment_day"  # one rate per month: on the day it is paid in full, else as_of
    PER_DAY = "per_day"  # every day at the rate in force on that day


class KeyRate(NamedTuple):
    """A Bank of Russia key-rate decision; a plain (valid_from, rate) pair also works."""

    valid_from: date
    rate: Decimal  # percent a year: Decimal("16.5")


@dataclass(frozen=True)
class Moratorium:
    """Days on which no penalty accrues, inclusive (docs/penalties.md §4).

    With `months_ended_before` set, only debts for months that ended before that date are
    frozen (the 2022 bankruptcy moratorium); otherwise every debt is (2020).
    """

    date_from: date
    date_to: date
    months_ended_before: date | None = None
    basis: str = ""  # legal basis, in Russian, for the admin and the claim texts


@dataclass(frozen=True)
class RateCap:
    """On these days (inclusive) the rate is at most `rate` percent (docs/penalties.md §4)."""

    date_from: date
    date_to: date
    rate: Decimal
    basis: str = ""


@dataclass(frozen=True)
class Debt:
    """The charges of one month and the last day to pay them without penalty (docs/penalties.md §1)."""

    month: date  # the 1st of the month charged
    amount: Decimal  # what was charged; payments, even early ones, come as Payment rows
    due_on: date  # default_due_on(month) unless the contract says otherwise


@dataclass(frozen=True)
class Payment:
    """Money received; `month` is set when the payment document names the month."""

    paid_on: date
    amount: Decimal
    month: date | None = None


@dataclass(frozen=True)
class PenaltyLine:
    """One row of the breakdown: `days` days of `debt` at `rate` % / `denominator`."""

    month: date
    date_from: date
    date_to: date
    days: int
    debt: Decimal
    rate: Decimal
    denominator: int  # 300, 170 or 130
    amount: Decimal


@dataclass(frozen=True)
class PenaltyResult:
    """The lines, their sum, and whether the last known key rate stood in for unknown ones."""

    total: Decimal
    lines: tuple[PenaltyLine, ...]
    uses_last_known_rate: bool = False  # as_of is after the last key-rate decision we know
    note: str = ""  # Russian text saying so, for the output


@lru_cache(maxsize=4096)
def default_due_on(month: date, *, day: int = DUE_DAY) -> date:
    """The 10th (or the contract's `day`) of the month after `month` (docs/penalties.md §1)."""
    return _next_month(month).replace(day=day)


def _next_month(month: date) -> date:
    """The 1st of the month after the one `month` is in."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def calculate_penalty(
    *,
    debts: Sequence[Debt],
    payments: Sequence[Payment] = (),
    category: DebtorCategory,
    as_of: date,
    key_rates: Sequence[tuple[date, Decimal]],
    moratoria: Sequence[Moratorium] = (),
    caps: Sequence[RateCap] = (),
    rate_mode: RateMode = RateMode.PAYMENT_DAY,
) -> PenaltyResult:
    """Penalty on `as_of` for the given debts, line by line (docs/penalties.md §2–§6).

    Payments dated after `as_of` are ignored: the calculation is as of that day. Raises
    ValueError with a Russian message on inconsistent input.
    """
    rates = sorted((valid_from, rate) for valid_from, rate in key_rates)
    if not rates:
        raise ValueError("Таблица ключевых ставок пуста.")
    seen: set[date] = set()
    for debt in debts:
        if debt.month.day != 1:
            raise ValueError(f"Месяц долга должен начинаться с 1-го числа: {debt.month}.")
        if debt.month in seen:
            raise ValueError(f"Долг за {debt.month:%Y-%m} указан дважды.")
        seen.add(debt.month)
        _check_money(debt.amount, f"Сумма долга за {debt.month:%Y-%m}")
    for payment in payments:
        _check_money(payment.amount, f"Сумма платежа от {payment.paid_on:%d.%m.%Y}")
        if payment.month is not None and payment.month.day != 1:
            raise ValueError(f"Месяц платежа должен начинаться с 1-го числа: {payment.month}.")

    # Same kopeck scale everywhere, so that "1E+3" prints as 1000.00 in the lines.
    ordered = sorted((_in_kopecks(d) for d in debts), key=_by_month)
    known = [_in_kopecks(p) for p in payments if p.paid_on <= as_of]
    applied = allocate_payments(ordered, known)
    lines = [
        line
        for debt in ordered
        for line in _debt_lines(
            debt,
            applied[debt.month],
            category=category,
            as_of=as_of,
            rates=rates,
            moratoria=moratoria,
            caps=caps,
            rate_mode=rate_mode,
        )
    ]
    last_from, last_rate = rates[-1]
    after_last = as_of > last_from
    note = (
        f"Ключевая ставка после {last_from:%d.%m.%Y} неизвестна: применена последняя "
        f"известная ставка {_percent(last_rate).replace('.', ',')} %."
        if after_last
        else ""
    )
    total = sum((line.amount for line in lines), ZERO)
    return PenaltyResult(
        total=total, lines=tuple(lines), uses_last_known_rate=after_last, note=note
    )


def _by_month(debt: Debt) -> date:
    return debt.month


Amounted = TypeVar("Amounted", Debt, Payment)


def _in_kopecks(item: Amounted) -> Amounted:
    """The row with its amount at the kopeck scale (the ledger's amounts already are)."""
    if item.amount.as_tuple().exponent == KOPECK_EXPONENT:
        return item
    return replace(item, amount=to_kopecks(item.amount))


def _check_money(amount: Decimal, what: str) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= ZERO:
        raise ValueError(f"{what} должна быть положительным числом.")
    if to_kopecks(amount) != amount:
        raise ValueError(f"{what} должна быть в рублях с точностью до копейки.")


def allocate_payments(
    debts: Sequence[Debt], payments: Sequence[Payment]
) -> dict[date, list[Payment]]:
    """The parts of each payment that went to each month (docs/penalties.md §6): the one place
    where payments are allocated (the cabinet's months, overdue debt and the penalty engine
    all read it).

    The rule: a payment that names a month pays that month; what exceeds that month's debt,
    like a payment that names none, pays the oldest unpaid month first, then the next (ГК РФ
    ст. 319.1 п. 3; ПП 354 п. 118). Every debt of the calculation is known up front, so what
    a payment leaves over is credit that pays the later months at once, oldest first; what
    is left after all of them stays credit and changes nothing here. Penalties are a debt
    apart: a payment never pays them unless the payer says so (a penalty_payment entry).
    """
    unpaid = {debt.month: debt.amount for debt in debts}
    applied: dict[date, list[Payment]] = {month: [] for month in unpaid}
    oldest_first = sorted(unpaid)
    for payment in sorted(payments, key=lambda payment: payment.paid_on):
        left = payment.amount
        named = [payment.month] if payment.month in unpaid else []
        for month in named + oldest_first:
            if left <= ZERO:  # nothing left of this payment: the rest of the months get 0
                break
            part = min(left, unpaid[month])
            if part > ZERO:
                applied[month].append(Payment(paid_on=payment.paid_on, amount=part, month=month))
                unpaid[month] -= part
                left -= part
    return applied


def _debt_lines(
    debt: Debt,
    parts: Sequence[Payment],
    *,
    category: DebtorCategory,
    as_of: date,
    rates: Sequence[tuple[date, Decimal]],
    moratoria: Sequence[Moratorium],
    caps: Sequence[RateCap],
    rate_mode: RateMode,
) -> list[PenaltyLine]:
    """Walk the days of delay of one month and merge equal consecutive days into lines.

    The days are walked a stretch at a time: a day's line key (debt, rate, fraction) and
    whether it counts can change only on a few days (the 31st and 91st day of delay, the day
    after a payment, a key-rate decision, the first and the day after the last of a cap or a
    moratorium), so each stretch between two such days is one piece of a line. The lines
    are those of a day-by-day walk; a year of delay costs a handful of steps, not 365.
    """
    paid_in_full_on = parts[-1].paid_on if sum(p.amount for p in parts) == debt.amount else None
    # Runs to the day of full payment, which is counted (docs/penalties.md §2), or to as_of. That day is also
    # the one whose rate the whole month takes in payment_day mode (docs/penalties.md §3).
    last_day = paid_in_full_on or as_of
    first_day = debt.due_on + ONE_DAY
    if first_day > last_day:
        return []
    end = last_day + ONE_DAY
    changes = {first_day, end}
    if category != DebtorCategory.LEGAL:  # the days of delay where the fraction changes
        changes.add(debt.due_on + timedelta(days=FREE_DAYS + 1))
        changes.add(debt.due_on + timedelta(days=LAST_1_300_DAY_UK + 1))
        changes.add(debt.due_on + timedelta(days=LAST_1_300_DAY + 1))
    changes.update(part.paid_on + ONE_DAY for part in parts)
    if rate_mode == RateMode.PER_DAY:
        changes.update(valid_from for valid_from, _ in rates)
    for cap in caps:
        changes.update((cap.date_from, cap.date_to + ONE_DAY))
    for row in moratoria:
        changes.update((row.date_from, row.date_to + ONE_DAY))
    stretches = sorted(day for day in changes if first_day <= day <= end)
    runs: list[tuple[date, date, tuple[Decimal, Decimal, int]]] = []  # from, to, line key
    for day, after in pairwise(stretches):
        # Every day from `day` to the day before `after` has the same key as `day`.
        denominator = _denominator(category, days_late=(day - debt.due_on).days)
        if not denominator or _frozen(day, debt.month, moratoria):
            continue
        unpaid = debt.amount - sum(p.amount for p in parts if p.paid_on < day)
        rate = _rate_on(rates, day if rate_mode == RateMode.PER_DAY else last_day)
        rate = min([rate] + [cap.rate for cap in caps if cap.date_from <= day <= cap.date_to])
        key = (unpaid, rate, denominator)
        if runs and runs[-1][1] + ONE_DAY == day and runs[-1][2] == key:
            runs[-1] = (runs[-1][0], after - ONE_DAY, key)  # same line, longer
        else:
            runs.append((day, after - ONE_DAY, key))  # a new line: something changed or a gap
    return [_line(debt.month, start, stop, *key) for start, stop, key in runs]


def _denominator(category: DebtorCategory, *, days_late: int) -> int | None:
    """The fraction of the key rate on day `days_late` of delay, None on free days (docs/penalties.md §2)."""
    if category == DebtorCategory.LEGAL:
        return 130
    if days_late <= category.free_days:
        return None
    if days_late > LAST_1_300_DAY:
        return 130
    if category == DebtorCategory.MANAGING_ORG and days_late > LAST_1_300_DAY_UK:
        return 170
    return 300


def _frozen(day: date, month: date, moratoria: Sequence[Moratorium]) -> bool:
    """Whether a moratorium stops the penalty of `month`'s debt on `day` (docs/penalties.md §4)."""
    return any(
        row.date_from <= day <= row.date_to
        and (row.months_ended_before is None or _next_month(month) <= row.months_ended_before)
        for row in moratoria
    )


def _rate_on(rates: Sequence[tuple[date, Decimal]], day: date) -> Decimal:
    """The key rate in force on `day`; after the last decision, the last rate (docs/penalties.md §3)."""
    index = bisect_right(rates, day, key=_valid_from)
    if index == 0:
        raise ValueError(f"Нет ключевой ставки на {day:%d.%m.%Y}.")
    return rates[index - 1][1]


def _valid_from(rate: tuple[date, Decimal]) -> date:
    return rate[0]


def _line(
    month: date, date_from: date, date_to: date, debt: Decimal, rate: Decimal, denominator: int
) -> PenaltyLine:
    """One line; its amount is rounded half-up to kopecks, once (docs/penalties.md §5)."""
    days = (date_to - date_from).days + 1
    amount = to_kopecks(debt * days * rate / 100 / denominator)
    return PenaltyLine(month, date_from, date_to, days, debt, rate, denominator, amount)


def _percent(rate: Decimal) -> str:
    """7.5 -> '7.5', 18 -> '18.0', 4.25 -> '4.25', as the worked examples print rates."""
    text = f"{rate.normalize():f}"
    return text if "." in text else f"{text}.0"


def format_lines(result: PenaltyResult) -> list[str]:
    """The breakdown in the text layout of docs/penalties.md §10, one string per line.

    The total line ('total: 438.46') is not included; print `result.total` after these.
    """
    return [
        f"  {line.month:%Y-%m} {line.date_from}..{line.date_to} {line.days:>4}d"
        f"  debt {line.debt:>10}  rate {_percent(line.rate):>5}%"
        f"  1/{line.denominator}  = {line.amount}"
        for line in result.lines
    ]


# --- The JSON input of `manage.py calc_penalty` (docs/penalties.md §10) ---

_TOP_KEYS = {"debtor", "as_of", "rate_mode", "debts", "payments"}
_DEBT_KEYS = {"period", "amount", "due_on"}
_PAYMENT_KEYS = {"date", "amount", "period"}


def calculation_from_json(
    data: dict[str, Any],
    *,
    key_rates: Sequence[tuple[date, Decimal]],
    moratoria: Sequence[Moratorium] = (),
    caps: Sequence[RateCap] = (),
) -> PenaltyResult:
    """Validate the JSON input of docs/penalties.md §10 and calculate it.

    A debt may carry its own "due_on" (ISO date); by default it is the 10th of the next
    month. Amounts are strings (or integers), never JSON floats. Raises ValueError with a
    Russian message on the first problem found.
    """
    _check_keys(data, _TOP_KEYS, "Входные данные")
    category = _json_choice(DebtorCategory, data.get("debtor"), "Категория должника (debtor)")
    rate_mode = _json_choice(RateMode, data.get("rate_mode", "payment_day"), "Режим ставки")
    as_of = _json_date(data.get("as_of"), "Дата расчёта (as_of)")
    raw_debts = data.get("debts")
    if not isinstance(raw_debts, list) or not raw_debts:
        raise ValueError("Нужен непустой список долгов (debts).")
    debts = []
    for number, item in enumerate(raw_debts, start=1):
        where = f"Долг № {number}"
        _check_keys(item, _DEBT_KEYS, where)
        month = _json_date(item.get("period"), f"{where}: период", month=True)
        due_on = default_due_on(month)
        if "due_on" in item:
            due_on = _json_date(item["due_on"], f"{where}: срок оплаты")
        debts.append(Debt(month, _json_amount(item.get("amount"), f"{where}: сумма"), due_on))
    raw_payments = data.get("payments", [])
    if not isinstance(raw_payments, list):
        raise ValueError("Платежи (payments) должны быть списком.")
    payments = []
    for number, item in enumerate(raw_payments, start=1):
        where = f"Платёж № {number}"
        _check_keys(item, _PAYMENT_KEYS, where)
        paid_on = _json_date(item.get("date"), f"{where}: дата")
        if paid_on > as_of:
            raise ValueError(f"{where}: дата платежа позже даты расчёта.")
        month = (
            _json_date(item.get("period"), f"{where}: период", month=True)
            if "period" in item
            else None
        )
        payments.append(
            Payment(paid_on, _json_amount(item.get("amount"), f"{where}: сумма"), month)
        )
    return calculate_penalty(
        debts=debts,
        payments=payments,
        category=category,
        as_of=as_of,
        key_rates=key_rates,
        moratoria=moratoria,
        caps=caps,
        rate_mode=rate_mode,
    )


def _check_keys(item: object, allowed: set[str], where: str) -> None:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: ожидается объект JSON.")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ValueError(f"{where}: неизвестные поля: {', '.join(map(str, unknown))}.")


def _json_choice(choices: type[Choice], value: object, what: str) -> Choice:
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        raise ValueError(f"{what}: неизвестное значение {value!r}; допустимо: {allowed}.") from None


def _json_date(value: object, what: str, *, month: bool = False) -> date:
    """An ISO date "2023-06-30", or with month=True a month "2023-01" (its 1st day)."""
    pattern, layout = (r"\d{4}-\d{2}", "ГГГГ-ММ") if month else (r"\d{4}-\d{2}-\d{2}", "ГГГГ-ММ-ДД")
    if isinstance(value, str) and re.fullmatch(pattern, value):
        try:
            return date.fromisoformat(f"{value}-01" if month else value)
        except ValueError:
            pass
    raise ValueError(f"{what}: неверное значение {value!r}, ожидается {layout}.")


def _json_amount(value: object, what: str) -> Decimal:
    """A string or an integer; a JSON float ("1.1" parsed as binary) is refused."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise ValueError(f'{what}: {value!r} — ожидается сумма строкой, например "1500.00".')
