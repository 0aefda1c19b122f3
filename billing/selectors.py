"""Reads of the ledger: balances, debt by month, the penalty breakdown, legal tables.

Everything here is derived from the ledger; nothing stores a balance. The penalty engine
(billing.penalties) receives plain data built here, never model instances.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DecimalField, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import PersonalAccount, Subscriber
from billing import penalties
from billing.models import (
    BillingRun,
    KeyRate,
    LedgerEntry,
    Moratorium,
    Norm,
    Payment,
    PaymentChannel,
    Period,
    RateCap,
    Receipt,
    Service,
    Tariff,
)
from vodokanal.common import clock
from vodokanal.common.money import ZERO, charge_amount
from vodokanal.common.months import month_end, month_start

CATEGORY_OF_KIND = {
    Subscriber.Kind.INDIVIDUAL: penalties.DebtorCategory.INDIVIDUAL,
    Subscriber.Kind.HOUSING_COOP: penalties.DebtorCategory.HOUSING_COOP,
    Subscriber.Kind.MANAGING_ORG: penalties.DebtorCategory.MANAGING_ORG,
    Subscriber.Kind.LEGAL: penalties.DebtorCategory.LEGAL,
}


@dataclass(frozen=True)
class PenaltyTables:
    """The legal data the engine needs, as plain rows (docs/penalties.md §3, §4)."""

    key_rates: tuple[penalties.KeyRate, ...]
    moratoria: tuple[penalties.Moratorium, ...]
    caps: tuple[penalties.RateCap, ...]
    rate_mode: penalties.RateMode = penalties.RateMode.PAYMENT_DAY


def penalty_tables() -> PenaltyTables:
    """Key rates, active moratoria and caps from the database, and the rate mode setting."""
    return PenaltyTables(
        key_rates=tuple(
            penalties.KeyRate(row.valid_from, row.rate)
            for row in KeyRate.objects.order_by("valid_from")
        ),
        moratoria=tuple(
            penalties.Moratorium(
                row.date_from, row.date_to, row.months_ended_before, basis=row.basis
            )
            for row in Moratorium.objects.filter(is_active=True)
        ),
        caps=tuple(
            penalties.RateCap(row.date_from, row.date_to, row.rate, basis=row.basis)
            for row in RateCap.objects.all()
        ),
        rate_mode=penalties.RateMode(settings.PENALTY_RATE_MODE),
    )


@dataclass(frozen=True)
class Balance:
    """What the account owes on a day: principal and penalties apart (docs/penalties.md §6)."""

    principal: Decimal  # + debt, - overpayment (credit)
    penalty: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.penalty


def account_balance(account: PersonalAccount, *, on: date | None = None) -> Balance:
    """The balance at the end of day `on` (all entries by default), from the ledger. Every
    entry is dated on or before the day it is booked (a run books its month on its day of
    calculation), so the balance on today is the whole ledger."""
    entries = LedgerEntry.objects.filter(account=account)
    if on is not None:
        entries = entries.filter(booked_on__lte=on)
    return balance_of(entries)


def balance_of(entries: QuerySet[LedgerEntry]) -> Balance:
    """Principal and penalties of any set of ledger entries, in one query."""
    money = DecimalField(max_digits=14, decimal_places=2)
    totals = entries.aggregate(
        principal=Coalesce(
            Sum("amount", filter=Q(kind__in=LedgerEntry.PRINCIPAL_KINDS)),
            Value(ZERO),
            output_field=money,
        ),
        penalty=Coalesce(
            Sum("amount", filter=Q(kind__in=LedgerEntry.PENALTY_KINDS)),
            Value(ZERO),
            output_field=money,
        ),
    )
    return Balance(principal=totals["principal"], penalty=totals["penalty"])


@dataclass
class EngineInput:
    """One account's debts and payments as the penalty engine takes them."""

    category: penalties.DebtorCategory
    due_day: int
    services: tuple[str, ...] = ()  # what the account is billed for (billing.law cites by it)
    debts: list[penalties.Debt] = field(default_factory=list)
    payments: list[penalties.Payment] = field(default_factory=list)


def engine_inputs(account_ids: Iterable[int], *, as_of: date) -> dict[int, EngineInput]:
    """Debts by month and payments of many accounts at once, for the engine.

    A month's debt is the sum of the charges and increasing adjustments booked in that
    period; decreasing adjustments and principal payments are credits on their date
    (payments that name a month go there first). Penalty entries stay apart.

    One pass over the accounts' principal rows; a payment's named month is looked up by its
    key (a join lets the planner hash the whole payment table for every chunk of accounts).
    """
    ids = list(account_ids)
    inputs: dict[int, EngineInput] = {}
    if not ids:
        return inputs
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, s.kind, s.due_day, a.water_supply, a.sewage
            FROM accounts_personalaccount a
            JOIN accounts_subscriber s ON s.id = a.subscriber_id WHERE a.id = ANY(%s)
            """,
            [ids],
        )
        for account_id, kind, due_day, water, sewage in cursor.fetchall():
            services = ("water_supply",) * water + ("sewage",) * sewage
            inputs[account_id] = EngineInput(CATEGORY_OF_KIND[kind], due_day, services)
        cursor.execute(
            """
            SELECT e.account_id, e.kind, e.amount, e.booked_on, p.month,
                   CASE WHEN e.payment_id IS NOT NULL THEN
                       (SELECT pay.for_month FROM billing_payment pay WHERE pay.id = e.payment_id)
                   END
            FROM billing_ledgerentry e JOIN billing_period p ON p.id = e.period_id
            WHERE e.account_id = ANY(%s) AND e.booked_on <= %s
              AND e.kind IN ('charge', 'adjustment', 'payment')
            ORDER BY e.account_id, e.booked_on, e.id
            """,
            [ids, as_of],
        )
        debts: dict[date, Decimal] = {}
        current = None
        for account_id, kind, amount, booked_on, month, named in cursor.fetchall():
            if account_id != current:
                if current is not None:
                    _add_debts(inputs[current], debts)
                current, debts = account_id, {}
            if kind == "payment" or (kind == "adjustment" and amount < 0):  # a credit
                inputs[account_id].payments.append(penalties.Payment(booked_on, -amount, named))
            elif amount > 0:  # a charge or an increasing adjustment: the debt of its period
                debts[month] = debts.get(month, ZERO) + amount
        if current is not None:
            _add_debts(inputs[current], debts)
    return inputs


def _add_debts(data: EngineInput, debts: dict[date, Decimal]) -> None:
    for month in sorted(debts):
        data.debts.append(
            penalties.Debt(month, debts[month], penalties.default_due_on(month, day=data.due_day))
        )


def penalty_breakdown(
    account: PersonalAccount, *, as_of: date | None = None, tables: PenaltyTables | None = None
) -> penalties.PenaltyResult:
    """The penalty to date, line by line, as the subscriber sees it ("why this penalty")."""
    as_of = as_of or clock.today()
    tables = tables or penalty_tables()
    data = engine_inputs([account.pk], as_of=as_of)[account.pk]
    if not data.debts:
        return penalties.PenaltyResult(total=ZERO, lines=())
    return calculate(data, as_of=as_of, tables=tables)


def calculate(data: EngineInput, *, as_of: date, tables: PenaltyTables) -> penalties.PenaltyResult:
    """The engine over one account's plain data."""
    return penalties.calculate_penalty(
        debts=data.debts,
        payments=data.payments,
        category=data.category,
        as_of=as_of,
        key_rates=tables.key_rates,
        moratoria=tables.moratoria,
        caps=tables.caps,
        rate_mode=tables.rate_mode,
    )


@dataclass(frozen=True)
class MonthDebt:
    """One billed month: what was charged, what of it is paid, what is left and since when."""

    month: date
    charged: Decimal
    paid: Decimal
    due_on: date
    on: date

    @property
    def unpaid(self) -> Decimal:
        return self.charged - self.paid

    @property
    def days_overdue(self) -> int:
        if self.unpaid <= ZERO:
            return 0
        return days_of_delay(since=self.due_on + timedelta(days=1), on=self.on)


def debt_by_month(account: PersonalAccount, *, on: date | None = None) -> list[MonthDebt]:
    """Every billed month, oldest first, with payments allocated as the law says (docs/penalties.md §6)."""
    on = on or clock.today()
    return months_of(engine_inputs([account.pk], as_of=on)[account.pk], on=on)


def months_of(data: EngineInput, *, on: date) -> list[MonthDebt]:
    """debt_by_month from an account's engine input as of `on`."""
    applied = penalties.allocate_payments(data.debts, data.payments)
    return [
        MonthDebt(
            month=debt.month,
            charged=debt.amount,
            paid=sum((part.amount for part in applied[debt.month]), ZERO),
            due_on=debt.due_on,
            on=on,
        )
        for debt in data.debts
    ]


def ledger_of(account: PersonalAccount) -> QuerySet[LedgerEntry]:
    """The account's ledger, newest first, with what the templates print."""
    return (
        LedgerEntry.objects.filter(account=account)
        .select_related("period", "payment", "reading__meter")
        .order_by("-period__month", "-booked_on", "-pk")
    )


def payments_of(account: PersonalAccount) -> QuerySet[Payment]:
    return Payment.objects.filter(account=account).order_by("-paid_on", "-pk")


def receipts_of(account: PersonalAccount) -> QuerySet[Receipt]:
    return (
        Receipt.objects.filter(account=account)
        .exclude(pdf="")
        .select_related("period")
        .order_by("-period__month")
    )


def open_periods() -> QuerySet[Period]:
    return Period.objects.filter(status=Period.Status.OPEN).order_by("month")


def account_ranges(*, size: int) -> list[tuple[int, int]]:
    """Ranges of account ids, first and last inclusive, `size` ids each, covering every
    account: the penalty run looks for debtors one range at a time (one task each)."""
    bounds = PersonalAccount.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return []
    return [
        (first, min(first + size - 1, bounds["last"]))
        for first in range(bounds["first"], bounds["last"] + 1, size)
    ]


def principal_debtor_ids(*, as_of: date, accounts: tuple[int, int] | None = None) -> list[int]:
    """Accounts whose penalty must be (re)calculated on `as_of`: those owing principal whose
    months were not all paid in time, and those with penalties booked by earlier runs (so
    that paid-off ones are settled). `accounts`: only ids in this range (inclusive).

    "Paid in time" is decided in SQL, for the whole ledger of the accounts at once, so the
    engine runs only for accounts that may owe a penalty (about one in ten): see
    _MAY_OWE_PENALTY.
    """
    first, last = accounts or (0, _LAST_ID)
    with_penalties = (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.PENALTY,
            run__isnull=False,
            account_id__gte=first,
            account_id__lte=last,
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The statement sorts the principal rows of the accounts: memory for it (a range of
        # 10 000 accounts takes about 40 MB; the whole ledger of 100 000, 400 MB).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")  # compiling it took a quarter of its time
        if accounts:
            # A range is one task of many, side by side in the workers: no parallel
            # workers of its own (at 100 000 accounts they made a range of 10 000 take
            # 1.3 s instead of 0.8 s).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(
            _MAY_OWE_PENALTY,
            {"as_of": as_of, "free_days": penalties.FREE_DAYS, "first": first, "last": last},
        )
        owing = [row[0] for row in cursor.fetchall()]
    return sorted(set(owing) | set(with_penalties))


_LAST_ID = 2**63 - 1

# Accounts that owe principal on as_of (as accounts_owing) and whose months may not all
# have been paid in time. A month m is paid in time when the credits that the engine's
# allocation (penalties.allocate_payments) cannot take past m - payments made by m's
# deadline (its due date plus the free days: 30 for individuals and housing
# cooperatives, none for managing and other organisations) that name no month or a month up to m, and
# decreasing adjustments - cover the debts of every month up to m.
#
# Each principal row gets a key, a date: a debt of month m (a positive charge or
# adjustment of period m) its deadline K(m) = the 1st of m's next month + due day - 1 +
# free days; a credit its day, or K(named month) when that is later. K grows with the
# month, so a credit counts for m exactly when its key is at most K(m), and the running
# sum (by key) of what the engine takes (debts minus credits) at a debt of month m is
# what the credits above leave unpaid of the months up to m. The test fails when that sum
# is above zero at a month whose deadline is before as_of; when it passes for every such
# month, each month was paid in full by its deadline (a payment never passes over an
# unpaid older month except for the month it names), the engine would find no day of
# delay and the account is left out: a sufficient test, never a wrong skip. (A month
# with no debt needs no check: only credits come between it and the last month with one.)
#
# The month a payment names is read from its ledger row: register_payments books it as
# the row's for_month, and the period's month when the payment names none; a payment that
# names its own period's month - so that the row alone does not say - is one that names a
# month not before it was paid, found through the small partial index of migration 0007.
# (Joining every payment row to its payment took half of the statement's time.)
_MAY_OWE_PENALTY = """
WITH lags AS (
    SELECT a.id AS account_id,
           s.due_day - 1 + CASE WHEN s.kind IN ('individual', 'housing_coop')
                                THEN %(free_days)s ELSE 0 END AS lag
    FROM accounts_personalaccount a JOIN accounts_subscriber s ON s.id = a.subscriber_id
    WHERE a.id BETWEEN %(first)s AND %(last)s
),
periods AS (
    SELECT id, month, (month + interval '1 month')::date AS next_month FROM billing_period
),
keyed AS (
    SELECT e.account_id, e.amount,
           CASE WHEN e.kind = 'payment' OR (e.kind = 'adjustment' AND e.amount < 0)
                THEN GREATEST(e.booked_on, CASE
                    WHEN e.kind = 'payment' AND (e.for_month <> p.month OR e.payment_id IN (
                        SELECT id FROM billing_payment
                        WHERE billing_month_index(for_month) >= billing_month_index(paid_on)))
                    THEN (e.for_month + interval '1 month')::date + l.lag END)
                ELSE p.next_month + l.lag END AS key,
           e.kind <> 'payment' AND e.amount > 0 AS debt,
           CASE WHEN e.kind = 'charge' AND e.amount < 0 THEN 0 ELSE e.amount END AS engine
    FROM billing_ledgerentry e
    JOIN periods p ON p.id = e.period_id
    JOIN lags l ON l.account_id = e.account_id
    WHERE e.account_id BETWEEN %(first)s AND %(last)s
      AND e.booked_on <= %(as_of)s AND e.kind IN ('charge', 'adjustment', 'payment')
),
running AS (
    SELECT account_id, amount, key, debt,
           sum(engine) OVER (PARTITION BY account_id ORDER BY key) AS balance
    FROM keyed
)
SELECT account_id FROM running GROUP BY account_id
HAVING sum(amount) > 0 AND bool_or(debt AND key < %(as_of)s AND balance > 0)
ORDER BY account_id
"""


def booked_penalties(account_ids: list[int], *, before_month: date) -> dict[int, Decimal]:
    """Penalties booked by runs of earlier periods, per account."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows = (
        LedgerEntry.objects.filter(
            account_id__in=account_ids,
            kind=LedgerEntry.Kind.PENALTY,
            run__isnull=False,
            period__month__lt=before_month,
        )
        .values_list("account_id")
        .annotate(total=Sum("amount"))
    )
    totals.update(dict(rows))
    return totals


def amounts_due(*, period: Period) -> dict[int, Decimal]:
    """Principal owed after each account's receipt of `period`: every account with an
    entry in that period, and its ledger sum over periods up to it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.account_id, sum(e.amount) FILTER (WHERE e.kind IN %s)
            FROM billing_ledgerentry e JOIN billing_period p ON p.id = e.period_id
            WHERE p.month <= %s AND e.account_id IN (
                SELECT account_id FROM billing_ledgerentry WHERE period_id = %s)
            GROUP BY e.account_id
            """,
            [tuple(LedgerEntry.PRINCIPAL_KINDS), period.month, period.pk],
        )
        return {account_id: total or ZERO for account_id, total in cursor.fetchall()}


def first_billing_day(month: date) -> date:
    """The first day a billing run for `month` may start: BILLING_RUN_DAY of the month, the
    day after its reading window closes (settings check the order). Before it the month is
    unfinished: its readings are still coming."""
    return month_start(month).replace(day=settings.BILLING_RUN_DAY)


def completed_periods() -> QuerySet[Period]:
    """Months whose billing is complete: a run is done and none is queued or running (a
    month being billed, or not yet billed, has no receipt)."""
    active = [BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]
    return Period.objects.filter(runs__status=BillingRun.Status.DONE).exclude(
        runs__status__in=active
    )


def billed_periods(account: PersonalAccount) -> QuerySet[Period]:
    """Completed months with charges on the account: each has a receipt, newest first."""
    return (
        completed_periods()
        .filter(entries__account=account, entries__kind=LedgerEntry.Kind.CHARGE)
        .distinct()
        .order_by("-month")
    )


def payment_channels() -> QuerySet[PaymentChannel]:
    """The ways to pay and to pass readings shown to everyone, in the staff's order."""
    return PaymentChannel.objects.filter(is_active=True).order_by("order", "name")


def days_of_delay(*, since: date, on: date) -> int:
    """Days overdue on `on` of a debt whose first day of delay is `since` (the day after its
    due date): `since` is day 1, as the penalty engine counts (docs/penalties.md §1); 0 before."""
    return max((on - since).days + 1, 0)


@dataclass(frozen=True)
class Overdue:
    """An account's principal that is past its due date on a day (docs/penalties.md §1, §6):
    «Просроченный долг на {on}»."""

    debt: Decimal  # unpaid principal of the months whose due date has passed
    since: date  # the first day of delay of the oldest such month
    months: int  # how many months it spans
    by_month: tuple[tuple[date, Decimal], ...]  # (month, unpaid), oldest first
    on: date | None = None

    @property
    def days(self) -> int:
        """«Дней просрочки»: of the oldest unpaid month, on `on`."""
        return days_of_delay(since=self.since, on=self.on) if self.on else 0


def overdue_by_account(account_ids: Iterable[int], *, on: date) -> dict[int, Overdue]:
    """Overdue principal of many accounts at once, with payments allocated as the law says;
    accounts with nothing overdue are left out."""
    result = {}
    for account_id, data in engine_inputs(account_ids, as_of=on).items():
        if (overdue := overdue_of(data, on=on)) is not None:
            result[account_id] = overdue
    return result


def overdue_of(data: EngineInput, *, on: date) -> Overdue | None:
    """One account's overdue principal from its engine input (engine_inputs as of `on`)."""
    applied = penalties.allocate_payments(data.debts, data.payments)
    late = [
        (debt, debt.amount - sum((part.amount for part in applied[debt.month]), ZERO))
        for debt in data.debts
        if debt.due_on < on
    ]
    late = [(debt, unpaid) for debt, unpaid in late if unpaid > ZERO]
    if not late:
        return None
    return Overdue(
        debt=sum((unpaid for _, unpaid in late), ZERO),
        since=late[0][0].due_on + timedelta(days=1),
        months=len(late),
        by_month=tuple((debt.month, unpaid) for debt, unpaid in late),
        on=on,
    )


@dataclass(frozen=True)
class PenaltyToDate:
    """The penalty on a day («Пени на {on}»): what the engine calculates to that day, line by
    line, with what is paid, waived or corrected by staff (the ledger's penalty entries that
    no run booked) taken off."""

    on: date
    result: penalties.PenaltyResult
    settled: Decimal  # penalty payments and staff corrections: < 0 lowers, > 0 adds

    @property
    def accrued(self) -> Decimal:
        return self.result.total

    @property
    def due(self) -> Decimal:
        return max(self.accrued + self.settled, ZERO)


def penalty_to_date(
    account: PersonalAccount,
    *,
    on: date,
    tables: PenaltyTables | None = None,
    data: EngineInput | None = None,
) -> PenaltyToDate:
    """`data`: the account's engine input as of `on`, when the caller has read it."""
    settled = balance_of(
        LedgerEntry.objects.filter(account=account, booked_on__lte=on, run__isnull=True)
    ).penalty
    data = data or engine_inputs([account.pk], as_of=on)[account.pk]
    result = (
        calculate(data, as_of=on, tables=tables or penalty_tables())
        if data.debts
        else penalties.PenaltyResult(total=ZERO, lines=())
    )
    return PenaltyToDate(on=on, result=result, settled=settled)


def run_date(run: BillingRun) -> date:
    """The day a run books its charges on and calculates its penalties to: the last day of
    its month, or the run's own day when the month has not ended (never after it)."""
    return min(month_end(run.period.month), run.calculated_on)


def penalties_booked_to() -> date | None:
    """The day the penalties in the ledger run to: the calculation day of the latest month's
    completed run («Пени, начисленные по {day}»)."""
    run = (
        BillingRun.objects.filter(status=BillingRun.Status.DONE)
        .select_related("period")
        .order_by("-period__month", "-calculated_on", "-pk")
        .first()
    )
    return run_date(run) if run else None


# The labels of an account's figures, the same on every page and document (AccountFigures):
# a label with the same words and date carries the same number wherever it is shown.
FIGURE_LABELS = {
    "principal": "Задолженность на {on}",
    "overpayment": "Переплата на {on}",
    "overdue": "Просроченный долг на {on}",
    "days_overdue": "Дней просрочки на {on}",
    "penalties_booked": "Пени, начисленные по {on}",
    "penalty": "Пени на {on}",
}


def figure_label(kind: str, on: date | None) -> str:
    """FIGURE_LABELS[kind] on a day: figure_label("overdue", date(2026, 12, 5)) ->
    "Просроченный долг на 05.12.2026"."""
    return FIGURE_LABELS[kind].format(on=f"{on:%d.%m.%Y}" if on else "—")


class AccountFigures:
    """Every figure of an account's debt on a day, each kind computed in one place (the
    selector named) and shown under one label (FIGURE_LABELS) wherever it appears:

    - «Задолженность на {on}» (below zero «Переплата на {on}»): `balance.principal`, all the
      principal booked by that day: the months billed so far, paid or not, due or not;
    - «Просроченный долг на {on}»: `overdue.debt`, the part past its due date
      (overdue_by_account), and «Дней просрочки на {on}» of its oldest month (days_of_delay);
    - «Пени, начисленные по {penalties_booked_to}»: `balance.penalty`, the penalties in the
      ledger: booked by the monthly runs to their day, less payments and corrections;
    - «Пени на {on}»: `penalty.due`, calculated to that very day (penalty_to_date).

    Each is read when first used: the account page shows two of them.
    """

    def __init__(
        self, account: PersonalAccount, *, on: date, tables: PenaltyTables | None = None
    ) -> None:
        self.account, self.on, self._tables = account, on, tables

    @cached_property
    def balance(self) -> Balance:
        return account_balance(self.account, on=self.on)

    @cached_property
    def _engine_input(self) -> EngineInput:
        return engine_inputs([self.account.pk], as_of=self.on)[self.account.pk]

    @cached_property
    def overdue(self) -> Overdue | None:
        return overdue_of(self._engine_input, on=self.on)

    @cached_property
    def months(self) -> list[MonthDebt]:
        """Every billed month by that day, oldest first (debt_by_month)."""
        return months_of(self._engine_input, on=self.on)

    @cached_property
    def penalty(self) -> PenaltyToDate:
        tables = self._tables or penalty_tables()
        return penalty_to_date(self.account, on=self.on, tables=tables, data=self._engine_input)

    @cached_property
    def penalties_booked_to(self) -> date | None:
        return penalties_booked_to()

    @property
    def overdue_debt(self) -> Decimal:
        return self.overdue.debt if self.overdue else ZERO

    @property
    def days_overdue(self) -> int:
        return self.overdue.days if self.overdue else 0

    def label(self, kind: str) -> str:
        on = (self.penalties_booked_to or self.on) if kind == "penalties_booked" else self.on
        if kind == "principal" and self.balance.principal < ZERO:
            kind = "overpayment"
        return figure_label(kind, on)


def account_figures(
    account: PersonalAccount, *, on: date, tables: PenaltyTables | None = None
) -> AccountFigures:
    return AccountFigures(account, on=on, tables=tables)


def accounts_owing(*, on: date) -> list[int]:
    """Accounts whose principal balance on `on` is above zero (candidates for overdue)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT account_id FROM billing_ledgerentry
            WHERE booked_on <= %s AND kind IN ('charge', 'adjustment', 'payment')
            GROUP BY account_id HAVING sum(amount) > 0 ORDER BY 1
            """,
            [on],
        )
        return [row[0] for row in cursor.fetchall()]


def penalty_balances(account_ids: list[int]) -> dict[int, Decimal]:
    """Penalties owed per account, from the ledger."""
    rows = (
        LedgerEntry.objects.filter(account_id__in=account_ids, kind__in=LedgerEntry.PENALTY_KINDS)
        .values_list("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return dict(rows)


def norm_monthly_charge(account: PersonalAccount, *, on: date) -> Decimal:
    """One month's charge at the norm for the account's residents (ПП 354 п. 114: the
    threshold of a restriction is two of these)."""
    norms = {
        norm.kind: norm.volume
        for norm in Norm.objects.filter(valid_from__lte=on).exclude(valid_to__lt=on)
    }
    prices = {
        tariff.service: tariff.price
        for tariff in Tariff.objects.filter(
            category=account.tariff_category, valid_from__lte=on
        ).exclude(valid_to__lt=on)
    }
    cold = norms.get("cold", ZERO) * account.residents
    hot = norms.get("hot", ZERO) * account.residents if account.hot_water else ZERO
    total = ZERO
    if account.water_supply:
        total += charge_amount(volume_m3=cold, tariff=prices.get(Service.WATER_SUPPLY, ZERO))
    if account.sewage:
        total += charge_amount(volume_m3=cold + hot, tariff=prices.get(Service.SEWAGE, ZERO))
    return total
