"""Writes of billing: periods, the billing run, penalties, payments, adjustments, receipts.

Each function is one business action. Transactions are opened here; the billing run and the
period close are durable (never inside a bigger transaction). Side effects (Celery tasks)
are queued after commit.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import PersonalAccount, User
from billing import charges, selectors, tasks
from billing import receipts as billing_receipts
from billing.accruals import build_accrual_registry
from billing.models import (
    BillingRun,
    LedgerEntry,
    MeterVolume,
    Payment,
    PaymentAgent,
    Period,
    Receipt,
    ReceiptBatch,
    Service,
)
from billing.money import ZERO, to_kopecks
from billing.pdf import merge_pdf
from billing.penalties import DebtorCategory
from meters.selectors import add_months, month_end, month_start

logger = logging.getLogger(__name__)

PENALTY_CHUNK = 2000  # accounts whose penalties are booked in one transaction

PENALTY_LAW = {
    DebtorCategory.INDIVIDUAL: "ЖК РФ ст. 155 ч. 14",
    DebtorCategory.MANAGING_ORG: "416-ФЗ ст. 13 ч. 6.2, ст. 14 ч. 6.2",
    DebtorCategory.LEGAL: "416-ФЗ ст. 13 ч. 6.2, ст. 14 ч. 6.2",
}


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


@transaction.atomic
def start_billing_run(*, period_id: int, user: User | None = None) -> BillingRun:
    """Queue a billing run for an open period; one at a time per period."""
    period = Period.objects.select_for_update().get(pk=period_id)
    _check_can_run(period)
    if period.runs.filter(status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]):
        raise ValidationError(
            "Расчёт за %(period)s уже выполняется.", code="run_active", params={"period": period}
        )
    run = BillingRun.objects.create(period=period, started_by=user)
    tasks.run_billing.delay_on_commit(run.pk)
    return run


def start_scheduled_billing() -> BillingRun | None:
    """The beat's monthly run for the current month; skipped (and logged) when one is
    already queued, running or refused."""
    period = ensure_period(timezone.localdate())
    try:
        return start_billing_run(period_id=period.pk)
    except ValidationError as error:
        logger.warning("scheduled billing for period %s skipped: %s", period.pk, error.code)
        return None


def issue_scheduled_receipts() -> int:
    """The beat's receipts and the agents' accrual registries for the current month, once
    its run is done (the banks' apps then show the new amounts due)."""
    period = ensure_period(timezone.localdate())
    try:
        count = issue_receipts(period_id=period.pk)
    except ValidationError as error:
        logger.warning("scheduled receipts for period %s skipped: %s", period.pk, error.code)
        return 0
    for agent in PaymentAgent.objects.filter(is_active=True):
        build_accrual_registry(agent=agent, period=period)
    return count


def run_billing(*, run_id: int) -> BillingRun:
    """Charges, then penalties, for the run's period (design: monthly cycle, steps 2-3).

    A rerun for an open period replaces the period's charges, automatic adjustments and
    penalties; the ledger of closed periods is never touched. A refusal (no tariff, closed
    period) marks the run failed with its Russian message.
    """
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    if run.status == BillingRun.Status.DONE:
        return run
    BillingRun.objects.filter(pk=run_id).update(
        status=BillingRun.Status.RUNNING, started_at=timezone.now(), step="Начисления", error=""
    )
    try:
        book_charges(run_id=run_id)
        BillingRun.objects.filter(pk=run_id).update(step="Пени")
        book_penalties(run_id=run_id)
    except ValidationError as error:
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.FAILED, finished_at=timezone.now(), error=error.messages[0]
        )
        logger.warning("billing run %s refused: %s", run_id, error.code)
        raise
    except Exception:
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.FAILED,
            finished_at=timezone.now(),
            error="Внутренняя ошибка расчёта; подробности в журнале.",
        )
        raise
    BillingRun.objects.filter(pk=run_id).update(
        status=BillingRun.Status.DONE, finished_at=timezone.now(), step="Готово"
    )
    run.refresh_from_db()
    logger.info("billing run %s done: %s accounts", run_id, run.accounts)
    return run


@transaction.atomic(durable=True)
def book_charges(*, run_id: int) -> charges.ChargeTotals:
    """The set-based charges of the run's period, replacing the period's earlier ones."""
    run = BillingRun.objects.get(pk=run_id)
    period = Period.objects.select_for_update().get(pk=run.period_id)
    _check_can_run(period)
    LedgerEntry.objects.filter(
        period=period,
        run__isnull=False,
        kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ADJUSTMENT],
    ).delete()
    MeterVolume.objects.filter(period=period).delete()
    charges.check_ready(period_id=period.pk, month=period.month)
    start = Period.objects.order_by("month").values_list("month", flat=True).first()
    totals = charges.bill_period(
        period_id=period.pk, run_id=run.pk, month=period.month, start=start
    )
    BillingRun.objects.filter(pk=run_id).update(
        accounts=totals.accounts, charged=totals.charged, adjusted=totals.adjusted
    )
    return totals


def _check_can_run(period: Period) -> None:
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
    """Penalties to the last day of the period for every account that owes (penalties.md).

    The engine computes the whole penalty to date; the entry booked is what it adds to the
    penalties booked by earlier periods' runs (negative when payments or corrections
    lowered it). Chunks of accounts commit one by one; each replaces its own rows, so a
    rerun or a retry after a crash ends in the same ledger.
    """
    run = BillingRun.objects.select_related("period").get(pk=run_id)
    as_of = month_end(run.period.month)
    tables = selectors.penalty_tables()
    account_ids = selectors.principal_debtor_ids(as_of=as_of)
    BillingRun.objects.filter(pk=run_id).update(debtors=len(account_ids), debtors_done=0)
    total = ZERO
    for start in range(0, len(account_ids), PENALTY_CHUNK):
        total += _book_penalty_chunk(
            run=run,
            account_ids=account_ids[start : start + PENALTY_CHUNK],
            as_of=as_of,
            tables=tables,
        )
    # Accounts that had this period's penalties but no longer owe anything.
    stale = LedgerEntry.objects.filter(
        period=run.period, kind=LedgerEntry.Kind.PENALTY, run__isnull=False
    ).exclude(account_id__in=account_ids)
    with transaction.atomic():
        stale.delete()
        BillingRun.objects.filter(pk=run_id).update(penalties=total)
    return total


@transaction.atomic(durable=True)
def _book_penalty_chunk(
    *, run: BillingRun, account_ids: list[int], as_of: date, tables: selectors.PenaltyTables
) -> Decimal:
    with connection.cursor() as cursor:
        # The chunk's reads of 2000 ledgers: compiling their plans (JIT) cost more than
        # running them (BENCHMARKS.md).
        cursor.execute("SET LOCAL jit = off")
    period = Period.objects.select_for_update().get(pk=run.period_id)
    _check_can_run(period)
    LedgerEntry.objects.filter(
        period=period, kind=LedgerEntry.Kind.PENALTY, run__isnull=False, account_id__in=account_ids
    ).delete()
    inputs = selectors.engine_inputs(account_ids, as_of=as_of)
    booked = selectors.booked_penalties(account_ids, before_month=period.month)
    entries = []
    for account_id in account_ids:
        data = inputs[account_id]
        added = (
            selectors.calculate(data, as_of=as_of, tables=tables).total if data.debts else ZERO
        ) - booked[account_id]
        if added != ZERO:
            entries.append(
                LedgerEntry(
                    account_id=account_id,
                    period=period,
                    kind=LedgerEntry.Kind.PENALTY,
                    amount=added,
                    for_month=period.month,
                    booked_on=as_of,
                    reason=f"Пени по {as_of:%d.%m.%Y} ({PENALTY_LAW[data.category]})",
                    run=run,
                )
            )
    LedgerEntry.objects.bulk_create(entries)
    BillingRun.objects.filter(pk=run.pk).update(debtors_done=F("debtors_done") + len(account_ids))
    return sum((entry.amount for entry in entries), ZERO)


@transaction.atomic(durable=True)
def close_period(*, period_id: int, user: User | None = None) -> Period:
    """Close a billed month for good and open the next (design: monthly cycle, step 6)."""
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
    period.closed_at = timezone.now()
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


@transaction.atomic
def register_payments(payments: Sequence[NewPayment], *, user: User | None = None) -> list[Payment]:
    """Book payments in the open period (penalties.md section 6), all or none.

    Idempotent per (source, external_id): a repeated registry line or notification gets
    the first payment back; the same id with other data is refused (ValidationError,
    nothing booked). Allocation to months is derived from the ledger (named month first,
    then the oldest), so nothing else is stored. Locks the accounts' rows in primary-key
    order: money writes to one account are serialised and two imports cannot deadlock.
    """
    rows = [
        replace(
            row,
            amount=to_kopecks(row.amount),
            for_month=month_start(row.for_month) if row.for_month else None,
        )
        for row in payments
    ]
    if any(row.amount <= ZERO for row in rows):
        raise ValidationError("Сумма платежа должна быть больше нуля.", code="amount_not_positive")
    locked = PersonalAccount.objects.filter(pk__in={row.account_id for row in rows})
    list(locked.order_by("pk").select_for_update().values_list("pk", flat=True))
    known = {
        (payment.source, payment.external_id): payment
        for payment in Payment.objects.filter(external_id__in={row.external_id for row in rows})
    }
    new: list[Payment] = []
    result = []
    for row in rows:
        payment = known.get((row.source, row.external_id))
        if payment is None:
            payment = Payment(
                account_id=row.account_id,
                amount=row.amount,
                paid_on=row.paid_on,
                source=row.source,
                external_id=row.external_id,
                for_month=row.for_month,
                for_penalty=row.for_penalty,
                agent_id=row.agent_id,
                registry_id=row.registry_id,
                created_by=user,
            )
            known[(row.source, row.external_id)] = payment
            new.append(payment)
        elif (payment.account_id, payment.amount, payment.paid_on) != (
            row.account_id,
            row.amount,
            row.paid_on,
        ):
            raise ValidationError(
                "Операция %(id)s уже учтена с другими данными.",
                code="payment_conflict",
                params={"id": row.external_id},
            )
        result.append(payment)
    _insert_payments(new)
    periods: dict[date, Period] = {}
    sources = dict(Payment.Source.choices)
    now = timezone.now()
    entries = []
    for payment in new:
        month = month_start(payment.paid_on)
        period = periods.get(month) or periods.setdefault(month, booking_period(month))
        kind = LedgerEntry.Kind.PENALTY_PAYMENT if payment.for_penalty else LedgerEntry.Kind.PAYMENT
        entries.append(
            (
                payment.account_id,
                period.pk,
                kind.value,
                -payment.amount,
                payment.for_month or period.month,
                payment.paid_on,
                f"Оплата от {payment.paid_on:%d.%m.%Y}, {sources[payment.source]}",
                payment.pk,
                user.pk if user else None,
                now,
            )
        )
    if entries:
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_PAYMENT_ENTRIES, [list(column) for column in zip(*entries, strict=True)]
            )
    return result


# Payments and their ledger rows are inserted with one statement each over arrays: a bank
# registry books 100,000 payments at once, and the ORM's bulk_create spends most of its
# time building that statement (BENCHMARKS.md).
_PAYMENT_COLUMNS = (
    "account_id", "amount", "paid_on", "received_at", "source", "external_id", "for_month",
    "for_penalty", "agent_id", "registry_id", "created_by_id",
)  # fmt: skip
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


def _insert_payments(payments: list[Payment]) -> None:
    """Insert new Payment instances in one statement and give them their ids."""
    if not payments:
        return
    values = [[getattr(payment, column) for payment in payments] for column in _PAYMENT_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_PAYMENTS, values)
        ids = {(source, external_id): pk for pk, source, external_id in cursor.fetchall()}
    for payment in payments:
        payment.pk = ids[(payment.source, payment.external_id)]
        payment._state.adding = False
        payment._state.db = connection.alias


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
    """A correction by staff, booked today in the open period with its reason: a
    recalculation (+ or -) of a service, or a change of penalties (a waiver is negative).
    Never deletable by a billing run."""
    amount = to_kopecks(amount)
    if amount == ZERO:
        raise ValidationError("Сумма перерасчёта не может быть нулевой.", code="zero")
    if not reason.strip():
        raise ValidationError("Укажите основание перерасчёта.", code="no_reason")
    if not penalty and service not in Service.values:
        raise ValidationError("Укажите услугу перерасчёта.", code="no_service")
    account = PersonalAccount.objects.select_for_update().get(pk=account_id)
    today = timezone.localdate()
    period = booking_period(today)
    return LedgerEntry.objects.create(
        account=account,
        period=period,
        kind=LedgerEntry.Kind.PENALTY if penalty else LedgerEntry.Kind.ADJUSTMENT,
        service="" if penalty else service,
        amount=amount,
        for_month=month_start(for_month) if for_month else period.month,
        booked_on=today,
        reason=reason.strip(),
        created_by=user,
    )


# --- Receipts (ЕПД) ---


@transaction.atomic
def issue_receipts(*, period_id: int) -> int:
    """Create the period's receipts in batches and queue one render task per batch.

    Safe to rerun: accounts that already have a receipt are skipped, and batches left
    pending by a crashed run are queued again. Returns the number of new receipts.
    """
    period = Period.objects.select_for_update().get(pk=period_id)
    if not period.runs.filter(status=BillingRun.Status.DONE).exists():
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
    files = billing_receipts.render_receipts([(r.account, r.period) for r in receipts])
    print_file = merge_pdf(files)
    with transaction.atomic():
        batch = ReceiptBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == ReceiptBatch.Status.READY:  # another worker won the race
            return
        now = timezone.now()
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
            receipt.rendered_at = timezone.now()
            receipt.save(update_fields=["pdf", "rendered_at"])
    return receipt


def _receipt_name(receipt: Receipt) -> str:
    return f"receipt-{receipt.account.number}-{receipt.period.month:%Y-%m}.pdf"
