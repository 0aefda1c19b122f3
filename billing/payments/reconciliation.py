"""The reconciliation act (акт сверки взаимных расчётов) of a legal-entity subscriber.

The act lists, for a date range, every document of all the subscriber's accounts as the
ledger holds it: charges (one row per account and month), adjustments with their reason,
penalties and payments. Debit is what raises the subscriber's debt, credit what lowers it.
The opening balance is the ledger up to the day before the range, the closing balance the
ledger up to its last day (the same figure as ``selectors.account_balance`` summed over the
accounts). Everything is read with a fixed number of set-based queries.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max, QuerySet, Sum

from accounts.models import PersonalAccount, Subscriber
from billing.models import LedgerEntry
from billing.selectors import Balance, balance_of
from vodokanal.common.amount_words import amount_with_words
from vodokanal.common.money import ZERO
from vodokanal.common.printing.pdf import render_pdf
from vodokanal.common.russian import month_ru

TEMPLATE = "billing/pdf/reconciliation_act.html"

# Rows of one day: debts first, then what reduced them.
KIND_ORDER = {
    LedgerEntry.Kind.CHARGE: 0,
    LedgerEntry.Kind.ADJUSTMENT: 1,
    LedgerEntry.Kind.PENALTY: 2,
    LedgerEntry.Kind.PAYMENT: 3,
    LedgerEntry.Kind.PENALTY_PAYMENT: 4,
}


@dataclass(frozen=True)
class ActRow:
    """One document of the act: debit raises the debt, credit lowers it (both >= 0)."""

    on: date
    document: str
    account_number: str
    kind: str
    debit: Decimal
    credit: Decimal

    @property
    def is_penalty(self) -> bool:
        return self.kind in LedgerEntry.PENALTY_KINDS


@dataclass(frozen=True)
class ReconciliationAct:
    """The act as the template prints it; balances are + debt, - overpayment."""

    subscriber: Subscriber
    utility_name: str
    date_from: date
    date_to: date
    opening_on: date  # date_from - 1 day: the opening balance is at the end of this day
    account_numbers: tuple[str, ...]
    opening: Balance
    rows: tuple[ActRow, ...]
    debit_turnover: Decimal
    credit_turnover: Decimal
    closing: Balance
    result: str

    @property
    def opening_debit(self) -> Decimal:
        return max(self.opening.total, ZERO)

    @property
    def opening_credit(self) -> Decimal:
        return max(-self.opening.total, ZERO)

    @property
    def closing_debit(self) -> Decimal:
        return max(self.closing.total, ZERO)

    @property
    def closing_credit(self) -> Decimal:
        return max(-self.closing.total, ZERO)


def reconciliation_act(
    subscriber: Subscriber,
    *,
    date_from: date,
    date_to: date,
    accounts: QuerySet[PersonalAccount] | None = None,
) -> ReconciliationAct:
    """Build the act of `subscriber` for the days `date_from`..`date_to` inclusive: of all
    its accounts (staff), or of `accounts` only (a cabinet user's linked accounts: never one
    the user cannot open).

    Entries are taken by their business date (``booked_on``), so a charge belongs to the
    day its month was billed (the month's last day, or the run's day before it) and a payment
    to its payment day: the closing balance on a day is the cabinet's «Задолженность на» and
    «Пени, начисленные по» of that day (billing.selectors.AccountFigures). Reads only; four queries
    whatever the number of accounts and entries (accounts, opening, charges, the rest).
    Raises ValidationError for a reversed range or an individual subscriber.
    """
    if date_from > date_to:
        raise ValidationError(
            "Дата начала периода сверки не может быть позже даты окончания.",
            code="range_reversed",
        )
    if not subscriber.is_legal_entity:
        raise ValidationError(
            "Акт сверки составляется только для юридических лиц и управляющих организаций.",
            code="not_legal_entity",
        )
    own = subscriber.accounts.all()
    if accounts is not None:
        own = own.filter(pk__in=accounts.values("pk"))
    entries = LedgerEntry.objects.filter(account__in=own)
    in_range = entries.filter(booked_on__gte=date_from, booked_on__lte=date_to)

    account_numbers = tuple(own.order_by("number").values_list("number", flat=True))
    opening = balance_of(entries.filter(booked_on__lt=date_from))
    rows = sorted(
        [*_charge_rows(in_range), *_other_rows(in_range)],
        key=lambda row: (row.on, KIND_ORDER[LedgerEntry.Kind(row.kind)], row.account_number),
    )
    debit_turnover = sum((row.debit for row in rows), ZERO)
    credit_turnover = sum((row.credit for row in rows), ZERO)
    penalty_change = sum((row.debit - row.credit for row in rows if row.is_penalty), ZERO)
    principal_change = debit_turnover - credit_turnover - penalty_change
    closing = Balance(
        principal=opening.principal + principal_change, penalty=opening.penalty + penalty_change
    )
    utility_name = settings.UTILITY["name"]
    return ReconciliationAct(
        subscriber=subscriber,
        utility_name=utility_name,
        date_from=date_from,
        date_to=date_to,
        opening_on=date_from - timedelta(days=1),
        account_numbers=account_numbers,
        opening=opening,
        rows=tuple(rows),
        debit_turnover=debit_turnover,
        credit_turnover=credit_turnover,
        closing=closing,
        result=result_sentence(
            total=closing.total,
            subscriber_name=subscriber.name,
            utility_name=utility_name,
            on=date_to,
        ),
    )


def render_reconciliation_act(act: ReconciliationAct) -> bytes:
    """The act as PDF bytes: A4 portrait; a long table repeats its header on every page."""
    return render_pdf(TEMPLATE, {"act": act, "utility": settings.UTILITY})


def result_sentence(*, total: Decimal, subscriber_name: str, utility_name: str, on: date) -> str:
    """Who owes whom at the end of the act, the amount in figures and words (docs/formats.md §5)."""
    day = f"{on:%d.%m.%Y}"
    if total > ZERO:
        return (
            f"Задолженность {subscriber_name} перед {utility_name} на {day} составляет "
            f"{amount_with_words(total)}."
        )
    if total < ZERO:
        return (
            f"Задолженность {utility_name} перед {subscriber_name} (переплата абонента) "
            f"на {day} составляет {amount_with_words(-total)}."
        )
    return f"Задолженность отсутствует по состоянию на {day}."


def _charge_rows(in_range: QuerySet[LedgerEntry]) -> list[ActRow]:
    """Charges summed per account and month (all services): one sales document each."""
    grouped = (
        in_range.filter(kind=LedgerEntry.Kind.CHARGE)
        .values("account__number", "period__month")
        .annotate(total=Sum("amount"), on=Max("booked_on"))
        .order_by()
    )
    return [
        _row(
            on=group["on"],
            document=(
                f"Реализация (начисление) за {month_ru(group['period__month'])} "
                f"по л/с {group['account__number']}"
            ),
            account_number=group["account__number"],
            kind=LedgerEntry.Kind.CHARGE,
            amount=group["total"],
        )
        for group in grouped
    ]


def _other_rows(in_range: QuerySet[LedgerEntry]) -> list[ActRow]:
    """Adjustments, penalties and payments, one row per ledger entry."""
    entries = (
        in_range.exclude(kind=LedgerEntry.Kind.CHARGE)
        .select_related("account", "payment")
        .order_by("booked_on", "pk")
    )
    return [
        _row(
            on=entry.booked_on,
            document=_document(entry),
            account_number=entry.account.number,
            kind=entry.kind,
            amount=entry.amount,
        )
        for entry in entries
    ]


def _document(entry: LedgerEntry) -> str:
    """The document's name as the act prints it."""
    number = entry.account.number
    if entry.kind in (LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.PENALTY_PAYMENT):
        label = "Оплата пени" if entry.kind == LedgerEntry.Kind.PENALTY_PAYMENT else "Оплата"
        payment = entry.payment
        if payment is None:
            return f"{label} от {entry.booked_on:%d.%m.%Y}, л/с {number}"
        return f"{label}, п/п № {payment.external_id} от {payment.paid_on:%d.%m.%Y}, л/с {number}"
    if entry.kind == LedgerEntry.Kind.ADJUSTMENT:
        service = f" ({entry.get_service_display().lower()})" if entry.service else ""
        reason = f": {entry.reason}" if entry.reason else ""
        return f"Перерасчёт{service} за {month_ru(entry.for_month)} по л/с {number}{reason}"
    return f"{entry.reason or 'Пени'}, л/с {number}"


def _row(*, on: date, document: str, account_number: str, kind: str, amount: Decimal) -> ActRow:
    """Put a signed ledger amount on its side: + debit, - credit."""
    return ActRow(
        on=on,
        document=document,
        account_number=account_number,
        kind=kind,
        debit=amount if amount > ZERO else ZERO,
        credit=-amount if amount < ZERO else ZERO,
    )
