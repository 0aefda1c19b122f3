"""Queries per page do not grow with the data (docs/architecture.md §11 (results: BENCHMARKS.md): no N+1 on the main pages).

Each page is requested for a small case (one month, one row) and a large one (two years of
charges, payments and readings; thirty published debtors), and the large one may make no
more queries than the small one.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from debtors import lists
from tests.billing.conftest import read
from tests.debtors.conftest import charge, pay
from tests.debtors.test_public_lists import account_of, organisation
from tests.factories import MeterFactory, PersonalAccountFactory, UserFactory, link
from vodokanal.common.months import add_months

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
FIRST = date(2024, 11, 1)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


def account_with_history(months: int, *, meters: int = 1):
    """An account with `months` months of charges, payments (by the 5th of the next month)
    and readings of each of its meters."""
    account = PersonalAccountFactory()
    devices = [
        MeterFactory(account=account, initial_reading=Decimal("100.000")) for _ in range(meters)
    ]
    for index in range(months):
        month = add_months(FIRST, index)
        charge(account, month, "900.00")
        pay(account, "900.00", add_months(month, 1).replace(day=5), f"q-{account.pk}-{index}")
        for meter in devices:
            read(meter, f"{110 + 10 * index}", month.replace(day=20))
    return account


@pytest.fixture
def cabinet(client, legal_data):
    """One user with a small and a large account: both pages list the same accounts."""
    user = UserFactory()
    small = account_with_history(1)
    large = account_with_history(24, meters=3)
    link(user, small)
    link(user, large)
    client.force_login(user)
    return small, large


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "page",
    ["accounts:account-detail", "billing:finance", "meters:readings", "billing:receipts"],
)
def test_cabinet_page_queries_do_not_grow_with_the_history(
    client, cabinet, page, django_assert_max_num_queries
):
    small, large = cabinet
    small_url = reverse(page, args=[small.number])
    large_url = reverse(page, args=[large.number])
    # Warm-up in the same order as the measurement: each request switches the account the
    # session remembers, so both measured requests save the session alike.
    queries(client, small_url)
    queries(client, large_url)
    one = queries(client, small_url)
    with django_assert_max_num_queries(one):
        client.get(large_url)


def test_the_large_account_really_is_large(cabinet):
    _, large = cabinet
    assert large.ledger.count() == 48
    assert sum(meter.readings.count() for meter in large.meters.all()) == 72


def debtor_organisations(first: int, count: int) -> None:
    for n in range(first, first + count):
        account = account_of(organisation(f"ООО «Должник {n:02d}»"))
        charge(account, date(2026, 1, 1), f"{60000 + n}.00")


def test_public_debtor_list_queries_do_not_grow_with_the_list(
    client, django_assert_max_num_queries
):
    url = reverse("public:debtors")
    debtor_organisations(0, 1)
    lists.publish_lists(on=date(2026, 4, 15))
    client.get(url)  # warm-up
    one = queries(client, url)
    debtor_organisations(1, 29)
    lists.publish_lists(on=date(2026, 4, 16))  # the next snapshot: thirty, two pages
    with django_assert_max_num_queries(one):
        response = client.get(url)
    assert len(response.context["entries"]) == 25
