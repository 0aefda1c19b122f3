"""The published lists (docs/architecture.md §9): debtor organisations and good payers, a monthly
snapshot shown on public pages without login.

Only organisations are ever published: legal entities and managing organisations with a
10-digit INN. Individuals are never read into a list, and an individual entrepreneur (ИП,
a 12-digit INN) is a natural person too, so his name and INN stay off the public pages
(docs/architecture.md §9; 152-ФЗ). The rule is applied twice: in the query that picks the
candidates and again, in `is_publishable`, on every row before an entry is written.

A snapshot never changes after it is published, except that a lawyer may take an entry off
at once (`remove_entry`); an organisation that pays simply is not in the next snapshot.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import PersonalAccount, Subscriber, User
from accounts.validators import is_valid_inn
from billing import penalties
from billing import selectors as billing_selectors
from billing.models import LedgerEntry
from debtors.models import DebtCase, PublishedEntry, PublishedList
from vodokanal.common import clock
from vodokanal.common.money import ZERO

logger = logging.getLogger(__name__)

ORGANISATION_KINDS = (
    Subscriber.Kind.LEGAL,
    Subscriber.Kind.MANAGING_ORG,
    Subscriber.Kind.HOUSING_COOP,
)
ORGANISATION_INN = r"^[0-9]{10}$"  # a 12-digit INN belongs to a person (an ИП)

# Public sort keys -> order_by. The key is what the page's `sort` parameter may hold;
# anything else falls back to the first key of the list's kind.
SORTS: dict[str, dict[str, tuple[str, ...]]] = {
    PublishedList.Kind.DEBTORS: {
        "-debt": ("-debt", "name", "pk"),
        "debt": ("debt", "name", "pk"),
        "name": ("name", "pk"),
        "-name": ("-name", "-pk"),
        "-days": ("-days_overdue", "name", "pk"),
        "days": ("days_overdue", "name", "pk"),
    },
    PublishedList.Kind.GOOD_PAYERS: {
        "name": ("name", "pk"),
        "-name": ("-name", "-pk"),
    },
}


def threshold() -> Decimal:
    """Debt above which an organisation is published (setting DEBTOR_LIST_THRESHOLD)."""
    return Decimal(str(getattr(settings, "DEBTOR_LIST_THRESHOLD", "50000.00")))


def min_days() -> int:
    """Days of delay the debt must exceed (setting DEBTOR_LIST_MIN_DAYS)."""
    return int(getattr(settings, "DEBTOR_LIST_MIN_DAYS", 60))


def is_publishable(subscriber: Subscriber) -> bool:
    """May this subscriber's name and INN appear on a public page? Organisations only: a
    legal entity or a managing organisation with a valid 10-digit INN. Never a person."""
    return (
        subscriber.kind in ORGANISATION_KINDS
        and len(subscriber.inn) == 10
        and is_valid_inn(subscriber.inn)
    )


def _organisation_accounts() -> QuerySet[PersonalAccount]:
    return PersonalAccount.objects.filter(
        subscriber__kind__in=ORGANISATION_KINDS, subscriber__inn__regex=ORGANISATION_INN
    ).select_related("subscriber")


def _public_name(subscriber: Subscriber) -> str:
    return subscriber.short_name or subscriber.name


def _year_before(on: date) -> date:
    try:
        return on.replace(year=on.year - 1)
    except ValueError:  # 29 February
        return on.replace(year=on.year - 1, day=28)


@dataclass
class _Row:
    subscriber: Subscriber
    debt: Decimal = ZERO  # all overdue principal on the day
    aged: Decimal = ZERO  # of it, the months overdue for more than min_days
    since: date = date.max  # the first day of delay of the oldest overdue month


def _debtor_rows(*, on: date, limit: Decimal, days: int) -> list[_Row]:
    """Organisations whose debt overdue for more than `days` days, summed over their
    accounts, is above `limit`. Counting only the months past `days` means the debt has
    been above the limit for the whole `days` (a month's unpaid part only goes down)."""
    accounts = {account.pk: account for account in _organisation_accounts()}
    owing = [pk for pk in billing_selectors.accounts_owing(on=on) if pk in accounts]
    rows: dict[int, _Row] = {}
    for account_id, overdue in billing_selectors.overdue_by_account(owing, on=on).items():
        subscriber = accounts[account_id].subscriber
        row = rows.setdefault(subscriber.pk, _Row(subscriber))
        row.debt += overdue.debt
        row.since = min(row.since, overdue.since)
        for month, unpaid in overdue.by_month:
            due_on = penalties.default_due_on(month, day=subscriber.due_day)
            if billing_selectors.days_of_delay(since=due_on + timedelta(days=1), on=on) > days:
                row.aged += unpaid
    return [row for row in rows.values() if row.aged > limit]


def _late_in_window(account_ids: list[int], *, start: date, on: date) -> set[int]:
    """Accounts with a month that was overdue on some day after `start` up to `on`: not
    paid in full by its due date, nor before the window began (payments allocated as the
    law says, docs/penalties.md §6)."""
    late = set()
    for account_id, data in billing_selectors.engine_inputs(account_ids, as_of=on).items():
        applied = penalties.allocate_payments(data.debts, data.payments)
        for debt in data.debts:
            checked_on = max(debt.due_on, start)  # paid by the end of this day: never late
            if checked_on >= on:
                continue
            paid = sum(
                (part.amount for part in applied[debt.month] if part.paid_on <= checked_on), ZERO
            )
            if paid < debt.amount:
                late.add(account_id)
                break
    return late


def _good_payers(*, on: date) -> list[Subscriber]:
    """Organisations billed in the 12 months before `on` that had no overdue debt on any
    day of them: every month paid by its due date by the ledger, and no debt case open in
    the window. Nothing is overdue now, because that too is a day of the window."""
    start = _year_before(on)
    billed = set(
        LedgerEntry.objects.filter(
            account__in=_organisation_accounts(),
            kind=LedgerEntry.Kind.CHARGE,
            booked_on__gt=start,
            booked_on__lte=on,
        ).values_list("account__subscriber", flat=True)
    )
    with_cases = set(
        DebtCase.objects.filter(account__subscriber_id__in=billed, opened_on__lte=on)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=start))
        .values_list("account__subscriber", flat=True)
    )
    candidates = list(_organisation_accounts().filter(subscriber_id__in=billed - with_cases))
    late = _late_in_window([account.pk for account in candidates], start=start, on=on)
    excluded = {account.subscriber_id for account in candidates if account.pk in late}
    unique = {account.subscriber_id: account.subscriber for account in candidates}
    return [subscriber for pk, subscriber in unique.items() if pk not in excluded]


def _entry(published: PublishedList, subscriber: Subscriber, **figures: object) -> PublishedEntry:
    return PublishedEntry(
        published_list=published,
        subscriber=subscriber,
        name=_public_name(subscriber),
        inn=subscriber.inn,
        **figures,
    )


def _publishable_only(subscribers: list[Subscriber]) -> list[Subscriber]:
    """The second check: whatever the query returned, a person is never written."""
    kept = [subscriber for subscriber in subscribers if is_publishable(subscriber)]
    for subscriber in subscribers:
        if subscriber not in kept:
            logger.error("subscriber %s is not an organisation: not published", subscriber.pk)
    return kept


@transaction.atomic(durable=True)
def publish_lists(*, on: date) -> tuple[PublishedList, PublishedList]:
    """Publish the debtor list and the good-payer list as of `on` (docs/architecture.md §9).

    Debtors: organisations whose principal overdue for more than DEBTOR_LIST_MIN_DAYS
    days (default 60), summed over their accounts, is above DEBTOR_LIST_THRESHOLD (default
    50 000.00); each with its whole overdue debt and the days of delay of its oldest month.
    Good payers: see `_good_payers`. Organisations only (`is_publishable`).

    Idempotent: a snapshot of a day is made once (unique kind + day); a rerun for the same
    day returns the lists already published and writes nothing, so an entry a lawyer took
    off stays off. Entries are written with the lists in one transaction.
    """
    debtors, created_debtors = PublishedList.objects.get_or_create(
        kind=PublishedList.Kind.DEBTORS,
        snapshot_on=on,
        defaults={"threshold": threshold(), "min_days": min_days()},
    )
    good, created_good = PublishedList.objects.get_or_create(
        kind=PublishedList.Kind.GOOD_PAYERS, snapshot_on=on
    )
    entries = []
    if created_debtors:
        rows = _debtor_rows(on=on, limit=debtors.threshold, days=debtors.min_days)
        kept = _publishable_only([row.subscriber for row in rows])
        entries += [
            # Days of delay up to `on` inclusive: the day after the due date is day 1.
            _entry(
                debtors,
                row.subscriber,
                debt=row.debt,
                days_overdue=billing_selectors.days_of_delay(since=row.since, on=on),
            )
            for row in rows
            if row.subscriber in kept
        ]
    if created_good:
        entries += [
            _entry(good, subscriber) for subscriber in _publishable_only(_good_payers(on=on))
        ]
    PublishedEntry.objects.bulk_create(entries)
    logger.info(
        "published lists on %s: %s entries (new debtors list: %s, new good payers list: %s)",
        on,
        len(entries),
        created_debtors,
        created_good,
    )
    return debtors, good


@transaction.atomic
def remove_entry(*, entry_id: int, by: User) -> PublishedEntry:
    """Take an organisation off a published list at once (a lawyer's decision, e.g. the
    debt is paid or disputed), recording who and when. Removing twice keeps the first
    record. The next snapshot is computed afresh from the ledger."""
    entry = PublishedEntry.objects.select_for_update().get(pk=entry_id)
    if entry.removed_at is None:
        entry.removed_at = clock.now()
        entry.removed_by = by
        entry.save(update_fields=["removed_at", "removed_by"])
        logger.info("published entry %s removed by user %s", entry.pk, by.pk)
    return entry


# --- Reads for the public pages ---


@dataclass(frozen=True)
class Snapshot:
    published: PublishedList
    entries: QuerySet[PublishedEntry]  # the visible ones (not taken off)


def latest_list(kind: str) -> Snapshot | None:
    """The latest snapshot of a kind of list and its visible entries; None before the
    first publication."""
    published = PublishedList.objects.filter(kind=kind).order_by("-snapshot_on").first()
    if published is None:
        return None
    entries = PublishedEntry.objects.filter(published_list=published, removed_at__isnull=True)
    return Snapshot(published=published, entries=entries)


def search_entries(
    entries: QuerySet[PublishedEntry], *, kind: str, query: str, sort: str
) -> QuerySet[PublishedEntry]:
    """Entries whose name contains `query` or whose INN starts with it, in the order of a
    whitelisted `sort` key (see SORTS)."""
    query = " ".join(query.split())[:100]
    if query:
        condition = Q(name__icontains=query)
        if query.isdigit():
            condition |= Q(inn__startswith=query)
        entries = entries.filter(condition)
    return entries.order_by(*SORTS[kind][sort])


def last_change(snapshot: Snapshot) -> str:
    """A version stamp of what the public page shows (for ETag): the snapshot and the
    latest removal from it."""
    removed = (
        PublishedEntry.objects.filter(published_list=snapshot.published, removed_at__isnull=False)
        .order_by("-removed_at")
        .values_list("removed_at", flat=True)
        .first()
    )
    stamp = int(removed.timestamp() * 1000) if removed else 0
    return f"{snapshot.published.pk}-{stamp}"
