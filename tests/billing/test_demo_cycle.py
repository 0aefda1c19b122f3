"""The demo city through the monthly cycle: a rerun gives the same ledger, and every balance
shown anywhere (cabinet, receipt, admin) is the sum of the ledger."""

import re
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Q, Sum
from django.urls import reverse

from accounts.demo import seed_demo_accounts
from accounts.models import PersonalAccount
from billing import receipts, selectors
from billing.demo import seed_demo_billing
from billing.models import BillingRun, LedgerEntry, Payment, Period
from meters.demo import seed_demo_meters
from meters.models import MeterReading
from tests.billing.conftest import bill, ledger_rows
from tests.factories import UserFactory, link, staff_user
from vodokanal.common import clock
from vodokanal.common.amount_words import rub

MOSCOW = ZoneInfo("Europe/Moscow")


def seed_demo_city(today: date) -> None:
    seed_demo_accounts(today=today, individuals=40)
    seed_demo_meters(today=today)
    seed_demo_billing(today=today)


@pytest.fixture
def demo_city(legal_data, staff_groups):
    """The demo city on the billing day of the clock's month (its readings are in), where
    the tests stay: the current month can be billed."""
    day = selectors.first_billing_day(clock.today())
    with time_machine.travel(datetime.combine(day, time(12), tzinfo=MOSCOW), tick=False):
        seed_demo_city(day)
        yield PersonalAccount.objects.select_related("subscriber").order_by("number")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "day",
    [
        pytest.param(None, id="the clock's day"),
        date(2027, 1, 1),
        date(2027, 1, 14),
        date(2027, 1, 15),
        date(2027, 1, 26),
        date(2028, 2, 29),
        date(2027, 12, 31),
    ],
)
def test_the_demo_on_any_day_has_a_closed_year_and_nothing_after_that_day(
    legal_data, staff_groups, day
):
    day = day or clock.today()
    with time_machine.travel(datetime.combine(day, time(12), tzinfo=MOSCOW), tick=False):
        seed_demo_city(day)

    this_month = day.replace(day=1)
    closed = Period.objects.filter(status=Period.Status.CLOSED)
    assert closed.count() == 12  # a year billed, paid and closed by the demo seeder
    assert max(closed.values_list("month", flat=True)) < this_month
    assert Period.objects.get(month=this_month).is_open
    assert not BillingRun.objects.filter(period__month=this_month).exists()
    assert not MeterReading.objects.filter(taken_on__gt=day).exists()
    assert not Payment.objects.filter(paid_on__gt=day).exists()
    assert not LedgerEntry.objects.filter(kind="penalty", booked_on__gt=day).exists()
    assert not LedgerEntry.objects.filter(booked_on__gte=this_month).exclude(kind="payment")
    readings_this_month = MeterReading.objects.filter(period=this_month).exists()
    assert readings_this_month is (day.day >= 15)


@pytest.mark.django_db(transaction=True)
def test_monthly_cycle_twice_gives_identical_ledgers(demo_city):
    current = Period.objects.get(month=clock.today().replace(day=1))
    assert Period.objects.filter(status=Period.Status.CLOSED).count() == 12

    bill(current.month)
    first = ledger_rows()
    bill(current.month)

    assert ledger_rows() == first
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {"charge", "payment", "penalty"} <= kinds
    bases = set(LedgerEntry.objects.filter(kind="charge").values_list("basis", flat=True))
    assert {"readings", "average", "norm"} <= bases


@pytest.mark.django_db(transaction=True)
def test_every_balance_shown_is_the_sum_of_the_ledger(demo_city, client):
    current = Period.objects.get(month=clock.today().replace(day=1))
    bill(current.month)  # every entry now belongs to a billed period
    subscriber = UserFactory()
    for account in demo_city:
        link(subscriber, account)
    accountant = staff_user("accountant")
    sums = {
        row["account__number"]: row
        for row in LedgerEntry.objects.values("account__number").annotate(
            principal=Sum("amount", filter=Q(kind__in=LedgerEntry.PRINCIPAL_KINDS)),
            penalty=Sum("amount", filter=Q(kind__in=LedgerEntry.PENALTY_KINDS)),
        )
    }
    debtors = 0
    for account in demo_city:
        ledger = sums[account.number]
        principal, penalty = (
            ledger["principal"] or Decimal("0.00"),
            ledger["penalty"] or Decimal("0.00"),
        )
        debtors += principal > 0

        balance = selectors.account_balance(account)
        assert (balance.principal, balance.penalty) == (principal, penalty), account.number

        receipt = receipts.receipt_data(account, current)
        assert (receipt.principal_due, receipt.penalty_due) == (principal, penalty), account.number

        client.force_login(subscriber)
        page = client.get(reverse("billing:finance", args=[account.number])).content.decode()
        assert _shown(page, "principal") == (rub(abs(principal)) if principal else "нет"), (
            account.number
        )
        assert _shown(page, "penalty") == (rub(penalty) if penalty else "нет"), account.number

        client.force_login(accountant)
        admin_page = client.get(
            reverse("admin:billing_ledgerentry_changelist"), {"q": account.number}
        ).content.decode()
        totals = re.search(r'id="ledger-totals">(.*?)</p>', admin_page, re.S).group(1)
        assert f"основной долг <strong>{rub(principal)}</strong>" in totals, account.number
        assert f"пени <strong>{rub(penalty)}</strong>" in totals, account.number
    assert debtors >= 3  # the demo has debtors, so the invariant is not only about zeros


def _shown(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</dd>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()
