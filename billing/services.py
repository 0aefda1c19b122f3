"""Writes of billing: periods, the billing run, penalties, payments, adjustments, receipts.

Each function is one business action. Transactions are opened here; the billing run and the
period close are durable (never inside a bigger transaction). Side effects (Celery tasks)
are queued after commit.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import DecimalField, F, Max, Sum, Value
from django.db.models.functions import Coalesce, Least

from accounts.models import PersonalAccount, User
from billing import charges, permissions, selectors, tasks
from billing import receipts as billing_receipts
from billing.models import (
    BillingRun,
    LedgerEntry,
    MeterVolume,
    Payment,
    Period,
    Receipt,
    ReceiptBatch,
    Service,
)
from vodokanal.common import clock, law
from vodokanal.common.money import ZERO, to_kopecks
from vodokanal.common.months import add_months, month_start

logger = logging.getLogger(__name__)

PENALTY_CHUNK = 2000  # debtors whose penalties are booked in one transaction (one task)
PENALTY_RANGE = 10_000  # account ids searched for debtors by one query (one task)


def ensure_period(month: date) -> Period:
    """The period of a month, created open if it does not exist yet."""
    period, _ = Period.objects.get_or_create(month=month_start(month))
    return period


def booking_period(on: date) -> Period:
    """Where an entry dated `on` is booked: its own month if open, else the first open
    month after it (a bank's late registry for a closed month lands in the open one)."""
    month = month_start(on)
    while True:
        period = ensure_period(month)
        if period.is_open:
            return period
        month = add_months(month, 1)


# --- The billing run ---


def check_month_can_be_billed(month: date, *, on: date) -> None:
    """Refuse a run for a month before its billing day (selectors.first_billing_day): its
    readings are still coming, and nothing of an unfinished month is billed as if it were
    over."""
    first_day = selectors.first_billing_day(month)
    if on < first_day:
        raise ValidationError(
            "Расчёт начислений за %(month)s можно запустить с %(day)s: до этого дня "
            "принимаются показания за месяц.",
            code="month_not_over",
            params={"month": f"{month:%m.%Y}", "day": f"{first_day:%d.%m.%Y}"},
        )


@transaction.atomic
def create_billing_run(
    *, month: date, user: User | None = None, on: date | None = None
) -> BillingRun:
    """A new run for a month calculated on `on` (today), refused before the month's billing
    day, for a closed period, or while another run of the period is queued or running."""
    permissions.require(user, "run_billing")
    today = on or clock.today()
    check_month_can_be_billed(month, on=today)
    period = Period.objects.select_for_update().get(pk=ensure_period(month).pk)
    _check_can_run(period, on=today)
    if period.runs.filter(status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]):
        raise ValidationError(
            "Расчёт за %(period)s уже выполняется.", code="run_active", params={"period": period}
        )
    return BillingRun.objects.create(period=period, started_by=user, calculated_on=today)


@transaction.atomic
def start_billing_run(*, month: date, user: User | None = None) -> BillingRun:
    """Queue a billing run for a month (create_billing_run) for a worker."""
    run = create_billing_run(month=month, user=user)
    tasks.run_billing.delay_on_commit(run.pk)
    return run


def start_scheduled_billing() -> BillingRun | None:
    """The beat's monthly run for the current month; skipped (and logged) when one is
    already queued, running or refused."""
    today = clock.today()
    try:
        return start_billing_run(month=month_start(today))
    except ValidationError as error:
        logger.warning("scheduled billing for %s skipped: %s", today, error.code)
        return None


def issue_scheduled_receipts() -> int:
    """The beat's receipts for the current month, once its run is done (the payment agents'
    accrual registries follow: billing/payments/accruals.py)."""
    period = ensure_period(clock.today())
    try:
        return issue_receipts(period_id=period.pk)
    except ValidationError as error:
        logger.warning("scheduled receipts for period %s skipped: %s", period.pk, error.code)
        return 0


def run_billing(*, run_id: int, penalties_in_tasks: bool = False) -> BillingRun:
    """Charges, then penalties, for the run's period (docs/architecture.md §7).

    A rerun for an open period replaces the period's charges, automatic adjustments and
    penalties; the ledger of closed periods is never touched. A refusal (no tariff, closed
    period) marks the run failed with its Russian message.

    With `penalties_in_tasks` (the worker's run, tasks.run_billing) the penalties are
    booked by Celery tasks, one per range of accounts and one per chunk of debtors, so more
    worker processes finish sooner; the run stays running until the last of them marks it
    done (finish_billing_run). Without, they are booked here, one after another.
    """
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    if run.status == BillingRun.Status.DONE:
        return run
    BillingRun.objects.filter(pk=run_id).update(
        status=BillingRun.Status.RUNNING, started_at=clock.now(), step="Начисления", error=""
    )
    with _failing_run(run_id):
        book_charges(run_id=run_id)
        BillingRun.objects.filter(pk=run_id).update(step="Пени")
        if penalties_in_tasks:
            start_penalty_tasks(run_id=run_id)
            run.refresh_from_db()
            return run
        book_penalties(run_id=run_id)
    return _complete_run(run_id)


@contextmanager
def _failing_run(run_id: int, *, refusals_only: bool = False) -> Iterator[None]:
    """Mark the run failed when the block raises, and let the error go on: a refusal with
    its Russian message, anything else (unless `refusals_only`) with a general one."""
    try:
        yield
    except ValidationError as error:
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.FAILED, finished_at=clock.now(), error=error.messages[0]
        )
        logger.warning("billing run %s refused: %s", run_id, error.code)
        raise
    except Exception:
        if not refusals_only:
            fail_billing_run(run_id=run_id)
        raise


def fail_billing_run(*, run_id: int) -> None:
    """Mark a queued or running run failed by an internal error (the log has the details)."""
    BillingRun.objects.filter(
        pk=run_id, status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]
    ).update(
        status=BillingRun.Status.FAILED,
        finished_at=clock.now(),
        error="Внутренняя ошибка расчёта; подробности в журнале.",
    )


def _complete_run(run_id: int) -> BillingRun:
    BillingRun.objects.filter(pk=run_id).update(
        status=BillingRun.Status.DONE, finished_at=clock.now(), step="Готово"
    )
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    logger.info("billing run %s done: %s accounts", run_id, run.accounts)
    return run


@transaction.atomic(durable=True)
def book_charges(*, run_id: int) -> charges.ChargeTotals:
    """The set-based charges of the run's period, replacing the period's earlier ones."""
    run = BillingRun.objects.get(pk=run_id)
    period = Period.objects.select_for_update().get(pk=run.period_id)
    _check_can_run(period, on=run.calculated_on)
    LedgerEntry.objects.filter(
        period=period,
        run__isnull=False,
        kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ADJUSTMENT],
    ).delete()
    MeterVolume.objects.filter(period=period).delete()
    charges.check_ready(period_id=period.pk, month=period.month)
    start = Period.objects.order_by("month").values_list("month", flat=True).first()
    totals = charges.bill_period(
        period_id=period.pk,
        run_id=run.pk,
        month=period.month,
        start=start,
        booked_on=selectors.run_date(run),
    )
    BillingRun.objects.filter(pk=run_id).update(
        accounts=totals.accounts, charged=totals.charged, adjusted=totals.adjusted
    )
    return totals


def _check_can_run(period: Period, *, on: date) -> None:
    check_month_can_be_billed(period.month, on=on)
    if not period.is_open:
        raise ValidationError(
            "Период %(period)s закрыт: его начисления не меняются. Перерасчёт попадёт "
            "в открытый период.",
            code="period_closed",
            params={"period": period},
        )
    later = BillingRun.objects.filter(period__month__gt=period.month).exclude(
        status=BillingRun.Status.FAILED
    )
    if later.exists():
        raise ValidationError(
            "За период после %(period)s уже есть расчёт: перерасчёт за %(period)s будет "
            "выполнен в нём.",
            code="later_run_exists",
            params={"period": period},
        )


def book_penalties(*, run_id: int) -> Decimal:
    """Penalties to the run's run_date for every account that owes (docs/penalties.md §11),
    here, one step after another: the same steps as the worker's tasks
    (start_penalty_tasks), with the same ledger and run totals as the result.

    The engine computes the whole penalty to date; the entry booked is what it adds to the
    penalties booked by earlier periods' runs (negative when payments or corrections
    lowered it). Chunks of accounts commit one by one; each replaces its own rows, so a
    rerun or a retry after a crash ends in the same ledger.
    """
    debtors = [
        account_id
        for accounts in selectors.account_ranges(size=PENALTY_RANGE)
        for account_id in find_penalty_debtors(run_id=run_id, accounts=accounts)
    ]
    for account_ids in start_penalty_chunks(run_id=run_id, account_ids=debtors):
        book_penalty_chunk(run_id=run_id, account_ids=account_ids)
    return settle_penalties(run_id=run_id)


def start_penalty_tasks(*, run_id: int) -> None:
    """Queue the penalties of a run for the workers: a task per range of accounts finds
    its debtors (find_penalty_debtors), then a task per chunk of them books their
    penalties (book_penalty_chunk), then finish_billing_run settles the run and marks it
    done; a task that fails for good marks the run failed (tasks.queue_penalties)."""
    tasks.queue_penalties(run_id, selectors.account_ranges(size=PENALTY_RANGE))


def _is_active(run_id: int) -> bool:
    """Whether the run still books: a failed or finished run's late tasks do nothing."""
    return BillingRun.objects.filter(
        pk=run_id, status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]
    ).exists()


def find_penalty_debtors(*, run_id: int, accounts: tuple[int, int]) -> list[int]:
    """The accounts of an id range (inclusive) whose penalty the run must calculate."""
    if not _is_active(run_id):
        return []
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    return selectors.principal_debtor_ids(as_of=selectors.run_date(run), accounts=accounts)


def start_penalty_chunks(*, run_id: int, account_ids: list[int]) -> list[list[int]]:
    """The debtors found, in chunks of PENALTY_CHUNK, and the run's progress counters
    set for them (BillingRun.debtors: the accounts the engine runs for)."""
    if not _is_active(run_id):
        return []
    ids = sorted(set(account_ids))
    BillingRun.objects.filter(pk=run_id).update(debtors=len(ids), debtors_done=0)
    return [ids[start : start + PENALTY_CHUNK] for start in range(0, len(ids), PENALTY_CHUNK)]


def book_penalty_chunk(*, run_id: int, account_ids: list[int]) -> Decimal:
    """Book the penalties of one chunk of debtors, replacing the period's earlier ones of
    the same accounts, in one transaction: a retry books nothing twice. Chunks of one run
    book side by side; a refusal (the period closed, a later run) marks the run failed."""
    with _failing_run(run_id, refusals_only=True):
        return _book_penalty_chunk(run_id=run_id, account_ids=account_ids)


@transaction.atomic(durable=True)
def _book_penalty_chunk(*, run_id: int, account_ids: list[int]) -> Decimal:
    with connection.cursor() as cursor:
        # The chunk's reads of 2000 ledgers: compiling their plans (JIT) cost more than
        # running them (BENCHMARKS.md).
        cursor.execute("SET LOCAL jit = off")
        # A shared lock: the run's other chunks book at the same time, close_period
        # (FOR UPDATE) waits for all of them.
        cursor.execute(
            "SELECT 1 FROM billing_period WHERE id = "
            "(SELECT period_id FROM billing_billingrun WHERE id = %s) FOR SHARE",
            [run_id],
        )
    if not _is_active(run_id):
        return ZERO
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    period = run.period
    _check_can_run(period, on=run.calculated_on)
    as_of = selectors.run_date(run)
    tables = selectors.penalty_tables()
    LedgerEntry.objects.filter(
        period=period, kind=LedgerEntry.Kind.PENALTY, run__isnull=False, account_id__in=account_ids
    ).delete()
    inputs = selectors.engine_inputs(account_ids, as_of=as_of)
    booked = selectors.booked_penalties(account_ids, before_month=period.month)
    entries: list[tuple[int, Decimal, str]] = []  # account, amount, reason
    for account_id in account_ids:
        data = inputs[account_id]
        added = (
            selectors.calculate(data, as_of=as_of, tables=tables).total if data.debts else ZERO
        ) - booked[account_id]
        if added != ZERO:
            basis = law.penalty_basis_short(data.category, data.services)
            reason = f"Пени по {as_of:%d.%m.%Y} ({basis})"
            entries.append((account_id, added, reason))
    if entries:
        fixed = [period.pk, LedgerEntry.Kind.PENALTY.value, period.month, as_of, run.pk]
        columns = [list(column) for column in zip(*entries, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_PENALTY_ENTRIES, [*fixed, clock.now(), *columns])
    # A chunk run again after its commit (a worker lost before it acknowledged the task)
    # counts twice here: the bar stops at the whole, and settle_penalties sets it exactly.
    BillingRun.objects.filter(pk=run_id).update(
        debtors_done=Least(F("debtors_done") + len(account_ids), F("debtors"))
    )
    return sum((amount for _, amount, _ in entries), ZERO)


# A chunk's penalty rows in one statement over arrays, as register_payments books its
# payments: building bulk_create's statement took about 0.2 s of a chunk of 2000.
_INSERT_PENALTY_ENTRIES = """
    INSERT INTO billing_ledgerentry
        (period_id, kind, for_month, booked_on, run_id, created_at, service, basis,
         account_id, amount, reason)
    SELECT %s, %s, %s, %s, %s, %s, '', '', account_id, amount, reason
    FROM unnest(%s::bigint[], %s::numeric[], %s::text[]) AS t(account_id, amount, reason)
"""


@transaction.atomic
def settle_penalties(*, run_id: int) -> Decimal:
    """After the last chunk: remove the period's penalties of accounts that no longer owe
    (every debtor's rows are this run's now, so the earlier runs' rows left are theirs)
    and set the run's total and counters from the ledger."""
    run = BillingRun.objects.get(pk=run_id)
    LedgerEntry.objects.filter(
        period_id=run.period_id, kind=LedgerEntry.Kind.PENALTY, run__isnull=False
    ).exclude(run_id=run_id).delete()
    total = LedgerEntry.objects.filter(run_id=run_id, kind=LedgerEntry.Kind.PENALTY).aggregate(
        total=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField())
    )["total"]
    BillingRun.objects.filter(pk=run_id).update(penalties=total, debtors_done=F("debtors"))
    return total


def finish_billing_run(*, run_id: int) -> BillingRun:
    """The end of a worker's run, after its last chunk of penalties: settle them and mark
    the run done. A run that failed meanwhile (a refusal in a chunk) is left as it is."""
    if not BillingRun.objects.filter(pk=run_id, status=BillingRun.Status.RUNNING).exists():
        return BillingRun.objects.get(pk=run_id)
    with _failing_run(run_id):
        settle_penalties(run_id=run_id)
    return _complete_run(run_id)


@transaction.atomic(durable=True)
def close_period(*, period_id: int, user: User | None = None) -> Period:
    """Close a billed month for good and open the next (docs/architecture.md §6)."""
    permissions.require(user, "close_period")
    period = Period.objects.select_for_update().get(pk=period_id)
    if not period.is_open:
        raise ValidationError("Период %(p)s уже закрыт.", code="closed", params={"p": period})
    if Period.objects.filter(month__lt=period.month, status=Period.Status.OPEN).exists():
        raise ValidationError("Сначала закройте более ранние периоды.", code="earlier_open")
    last_run = period.runs.order_by("-created_at").first()
    if last_run is None or last_run.status != BillingRun.Status.DONE:
        raise ValidationError(
            "Период %(p)s нельзя закрыть: нет завершённого расчёта начислений.",
            code="not_billed",
            params={"p": period},
        )
    period.status = Period.Status.CLOSED
    period.closed_at = clock.now()
    period.closed_by = user
    period.save(update_fields=["status", "closed_at", "closed_by"])
    ensure_period(add_months(period.month, 1))
    return period


# --- Payments and manual corrections ---


@dataclass(frozen=True)
class NewPayment:
    """A payment to book: from a registry line, a gateway notification or a cashier."""

    account_id: int
    amount: Decimal
    paid_on: date
    source: str
    external_id: str
    for_month: date | None = None
    for_penalty: bool = False
    agent_id: int | None = None
    registry_id: int | None = None


def register_payment(*, user: User | None = None, **fields: object) -> Payment:
    """Book one payment (see register_payments)."""
    return register_payments([NewPayment(**fields)], user=user)[0]  # type: ignore[arg-type]


def enter_payment(*, user: User, **fields: object) -> Payment:
    """A payment entered by staff (the cash desk, a bank's letter): needs the right to enter
    payments. Payments the portal books itself (gateways, registries) need none."""
    permissions.require(user, "book_payment")
    return register_payment(user=user, **fields)


def register_payments(payments: Sequence[NewPayment], *, user: User | None = None) -> list[Payment]:
    """Book payments (see book_payments) and return them, in order."""
    ids = book_payments(payments, user=user)
    by_id = Payment.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids]


@transaction.atomic
def book_payments(payments: Sequence[NewPayment], *, user: User | None = None) -> list[int]:
    """Book payments in the open period (docs/penalties.md §6), all or none; returns
    their ids in order.

    Idempotent per (source, external_id): a repeated registry line or notification gets
    the first payment back; the same id with other data is refused (ValidationError,
    nothing booked). Allocation to months is derived from the ledger (named month first,
    then the oldest), so nothing else is stored. Locks the accounts' rows in primary-key
    order: money writes to one account are serialised and two imports cannot deadlock.
    A registry books 100 000 payments at once, so the rows go to the database as columns
    (arrays), with no model instance per payment (BENCHMARKS.md).
    """
    amounts = [to_kopecks(row.amount) for row in payments]
    if any(amount <= ZERO for amount in amounts):
        raise ValidationError("Сумма платежа должна быть больше нуля.", code="amount_not_positive")
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_ACCOUNTS, [sorted({row.account_id for row in payments})])
        cursor.execute(
            _KNOWN_PAYMENTS,
            [[row.source for row in payments], [row.external_id for row in payments]],
        )
        known = {(source, external_id): rest for source, external_id, *rest in cursor.fetchall()}
    new: list[int] = []  # positions in `payments` of the payments to insert
    for position, (row, amount) in enumerate(zip(payments, amounts, strict=True)):
        key = (row.source, row.external_id)
        earlier = known.get(key)
        if earlier is None:  # a new operation (its id comes with the insert)
            known[key] = [None, row.account_id, amount, row.paid_on]
            new.append(position)
        elif tuple(earlier[1:]) != (row.account_id, amount, row.paid_on):
            raise ValidationError(
                "Операция %(id)s уже учтена с другими данными.",
                code="payment_conflict",
                params={"id": row.external_id},
            )
    rows, new_amounts = [payments[i] for i in new], [amounts[i] for i in new]
    inserted = _insert_payments(rows, new_amounts, user)
    for row, payment_id in zip(rows, inserted, strict=True):
        known[(row.source, row.external_id)][0] = payment_id
    _insert_payment_entries(rows, new_amounts, inserted, user)
    return [known[(row.source, row.external_id)][0] for row in payments]


def _insert_payments(
    rows: list[NewPayment], amounts: list[Decimal], user: User | None
) -> list[int]:
    """Insert the payments in one statement; their ids, in order."""
    if not rows:
        return []
    now = clock.now()
    columns = [
        [row.account_id for row in rows],
        amounts,
        [row.paid_on for row in rows],
        [now] * len(rows),
        [row.source for row in rows],
        [row.external_id for row in rows],
        [month_start(row.for_month) if row.for_month else None for row in rows],
        [row.for_penalty for row in rows],
        [row.agent_id for row in rows],
        [row.registry_id for row in rows],
        [user.pk if user else None] * len(rows),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_PAYMENTS, columns)
        ids = {(source, external_id): pk for pk, source, external_id in cursor.fetchall()}
    return [ids[(row.source, row.external_id)] for row in rows]


def _insert_payment_entries(
    rows: list[NewPayment], amounts: list[Decimal], ids: list[int], user: User | None
) -> None:
    """The ledger rows of new payments, booked in the open period of their day."""
    if not rows:
        return
    periods: dict[date, Period] = {}
    sources = dict(Payment.Source.choices)
    now = clock.now()
    columns: list[list] = [[] for _ in range(10)]
    for row, amount, payment_id in zip(rows, amounts, ids, strict=True):
        month = month_start(row.paid_on)
        period = periods.get(month) or periods.setdefault(month, booking_period(month))
        kind = LedgerEntry.Kind.PENALTY_PAYMENT if row.for_penalty else LedgerEntry.Kind.PAYMENT
        values = (
            row.account_id,
            period.pk,
            kind.value,
            -amount,
            month_start(row.for_month) if row.for_month else period.month,
            row.paid_on,
            f"Оплата от {row.paid_on:%d.%m.%Y}, {sources[row.source]}",
            payment_id,
            user.pk if user else None,
            now,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_PAYMENT_ENTRIES, columns)


_LOCK_ACCOUNTS = """
    SELECT id FROM accounts_personalaccount WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
"""
_KNOWN_PAYMENTS = """
    SELECT p.source, p.external_id, p.id, p.account_id, p.amount, p.paid_on
    FROM billing_payment p
    JOIN (SELECT DISTINCT * FROM unnest(%s::text[], %s::text[])) AS asked (source, external_id)
      ON p.source = asked.source AND p.external_id = asked.external_id
"""


# Payments and their ledger rows are inserted with one statement each over arrays: a bank
# registry books 100,000 payments at once, and the ORM's bulk_create spends most of its
# time building that statement (BENCHMARKS.md).
_INSERT_PAYMENTS = """
    INSERT INTO billing_payment
        (account_id, amount, paid_on, received_at, source, external_id, for_month,
         for_penalty, agent_id, registry_id, created_by_id)
    SELECT * FROM unnest(%s::bigint[], %s::numeric[], %s::date[], %s::timestamptz[],
                         %s::text[], %s::text[], %s::date[], %s::boolean[], %s::bigint[],
                         %s::bigint[], %s::bigint[])
    RETURNING id, source, external_id
"""
_INSERT_PAYMENT_ENTRIES = """
    INSERT INTO billing_ledgerentry
        (account_id, period_id, kind, amount, for_month, booked_on, reason, payment_id,
         created_by_id, created_at, service, basis)
    SELECT *, '', '' FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::numeric[],
                                 %s::date[], %s::date[], %s::text[], %s::bigint[],
                                 %s::bigint[], %s::timestamptz[])
"""


@transaction.atomic
def book_adjustment(
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    user: User,
    service: str = "",
    for_month: date | None = None,
    penalty: bool = False,
) -> LedgerEntry:
    """A correction by staff, booked today in the open period with its reason and author: a
    recalculation (+ or -) of a service, or a change of penalties (a waiver is negative).
    Each kind needs its own permission; the amount is bounded (correction_bound). Never
    deletable by a billing run."""
    permissions.require(user, "penalty_correction" if penalty else "charge_correction")
    amount = to_kopecks(amount)
    if amount == ZERO:
        raise ValidationError("Сумма перерасчёта не может быть нулевой.", code="zero")
    if not reason.strip():
        raise ValidationError("Укажите основание перерасчёта.", code="no_reason")
    if not penalty and service not in Service.values:
        raise ValidationError("Укажите услугу перерасчёта.", code="no_service")
    account = PersonalAccount.objects.select_for_update().get(pk=account_id)
    today = clock.today()
    period = booking_period(today)
    for_month = month_start(for_month) if for_month else period.month
    bound = correction_bound(
        account, penalty=penalty, service=service, for_month=for_month, lowers=amount < ZERO
    )
    if abs(amount) > bound:
        raise ValidationError(
            "Сумма корректировки %(amount)s ₽ больше допустимой (%(bound)s ₽): %(why)s.",
            code="too_large",
            params={
                "amount": amount,
                "bound": bound,
                "why": "списать можно не больше, чем начислено"
                if amount < ZERO
                else "большие доначисления проводятся по отдельному решению",
            },
        )
    return LedgerEntry.objects.create(
        account=account,
        period=period,
        kind=LedgerEntry.Kind.PENALTY if penalty else LedgerEntry.Kind.ADJUSTMENT,
        service="" if penalty else service,
        amount=amount,
        for_month=for_month,
        booked_on=today,
        reason=reason.strip(),
        created_by=user,
    )


def correction_bound(
    account: PersonalAccount, *, penalty: bool, service: str, for_month: date, lowers: bool
) -> Decimal:
    """The largest correction staff may book: an increase up to BILLING_CORRECTION_LIMIT; a
    decrease no larger than what it corrects (the penalties owed, or the service's charges of
    the month with the corrections already made) nor that limit."""
    limit = Decimal(settings.BILLING_CORRECTION_LIMIT)
    if not lowers:
        return limit
    if penalty:
        owed = selectors.account_balance(account).penalty
    else:
        owed = LedgerEntry.objects.filter(
            account=account,
            service=service,
            for_month=for_month,
            kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ADJUSTMENT],
        ).aggregate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()))[
            "total"
        ]
    return min(limit, max(owed, ZERO))


# --- Receipts (ЕПД) ---


@transaction.atomic
def issue_receipts(*, period_id: int) -> int:
    """Create the period's receipts in batches and queue one render task per batch.

    Safe to rerun: accounts that already have a receipt are skipped, and batches left
    pending by a crashed run are queued again. Returns the number of new receipts.
    """
    period = Period.objects.select_for_update().get(pk=period_id)
    if not selectors.completed_periods().filter(pk=period_id).exists():
        raise ValidationError(
            "Квитанции за %(p)s формируются после расчёта начислений.",
            code="not_billed",
            params={"p": period},
        )
    due = selectors.amounts_due(period=period)
    have = set(period.receipts.values_list("account_id", flat=True))
    missing = [account_id for account_id in sorted(due) if account_id not in have]
    size = settings.RECEIPT_BATCH_SIZE
    number = (period.receipt_batches.aggregate(n=Max("number"))["n"] or 0) + 1
    for start in range(0, len(missing), size):
        batch = ReceiptBatch.objects.create(period=period, number=number)
        number += 1
        Receipt.objects.bulk_create(
            Receipt(account_id=pk, period=period, batch=batch, total_due=max(due[pk], ZERO))
            for pk in missing[start : start + size]
        )
    for batch_id in period.receipt_batches.filter(status=ReceiptBatch.Status.PENDING).values_list(
        "pk", flat=True
    ):
        tasks.render_receipt_batch.delay_on_commit(batch_id)
    return len(missing)


def render_receipt_batch(*, batch_id: int) -> None:
    """Render a batch's receipts and its merged print file. A second run finds the batch
    ready and does nothing. Rendering happens outside any transaction."""
    batch = ReceiptBatch.objects.select_related("period").get(pk=batch_id)
    if batch.status == ReceiptBatch.Status.READY:
        return
    receipts = list(
        batch.receipts.select_related("account__subscriber", "period").order_by("account__number")
    )
    files, print_file = billing_receipts.render_receipts([(r.account, r.period) for r in receipts])
    with transaction.atomic():
        batch = ReceiptBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == ReceiptBatch.Status.READY:  # another worker won the race
            return
        now = clock.now()
        for receipt, pdf in zip(receipts, files, strict=True):
            receipt.pdf.save(_receipt_name(receipt), ContentFile(pdf), save=False)
            receipt.rendered_at = now
        Receipt.objects.bulk_update(receipts, ["pdf", "rendered_at"])
        batch.print_file.save(
            f"receipts-{batch.period.month:%Y-%m}-{batch.number:04d}.pdf",
            ContentFile(print_file),
            save=False,
        )
        batch.status = ReceiptBatch.Status.READY
        batch.rendered_at = now
        batch.save(update_fields=["print_file", "status", "rendered_at"])
    logger.info("receipt batch %s rendered: %s receipts", batch_id, len(receipts))


def receipt_for(*, account: PersonalAccount, period: Period) -> Receipt:
    """The stored receipt of a billed month, rendered now if its batch has not come to it
    yet (the subscriber should not wait for the mail house's batch)."""
    receipt = Receipt.objects.filter(account=account, period=period).first()
    if receipt is not None and receipt.pdf:
        return receipt
    data = billing_receipts.receipt_data(account, period)
    pdf = billing_receipts.receipt_pdf(data)
    with transaction.atomic():
        receipt, _ = Receipt.objects.select_for_update().get_or_create(
            account=account, period=period, defaults={"total_due": data.to_pay}
        )
        if not receipt.pdf:
            receipt.pdf.save(_receipt_name(receipt), ContentFile(pdf), save=False)
            receipt.rendered_at = clock.now()
            receipt.save(update_fields=["pdf", "rendered_at"])
    return receipt


def _receipt_name(receipt: Receipt) -> str:
    return f"receipt-{receipt.account.number}-{receipt.period.month:%Y-%m}.pdf"
