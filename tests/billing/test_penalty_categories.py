"""The four debtor categories through the monthly run and the cabinet (docs/penalties.md §2): a
managing organisation's 1/170 band is booked and shown like the others, with the part of the
law that applies to it."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Subscriber
from billing import selectors, services
from billing.models import BillingRun, LedgerEntry
from tests.debtors.conftest import charge
from tests.debtors.test_public_lists import account_of, organisation
from tests.factories import PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("legal_data")]

MOSCOW = ZoneInfo("Europe/Moscow")
MARCH = date(2025, 3, 1)  # due 10.04.2025; day 61 of delay is 10.06.2025
ON = date(2025, 6, 26)  # June's billing day: day 77 of March's delay


def debtor_of(kind: str):
    if kind == Subscriber.Kind.INDIVIDUAL:
        account = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    else:
        account = account_of(organisation(f"Должник {kind}", kind=kind))
    charge(account, MARCH, "100000.00")
    return account


@pytest.mark.parametrize(
    ("kind", "fractions", "basis"),
    [
        ("individual", [300], "ЖК РФ ч. 14 ст. 155"),
        ("housing_coop", [300], "416-ФЗ ч. 6.3 ст. 13, ч. 6.3 ст. 14"),
        ("managing_org", [300, 170], "416-ФЗ ч. 6.4 ст. 13, ч. 6.4 ст. 14"),
        ("legal", [130], "416-ФЗ ч. 6.2 ст. 13, ч. 6.2 ст. 14"),
    ],
)
def test_the_run_books_each_categorys_penalty_with_its_law(kind, fractions, basis, client):
    account = debtor_of(kind)
    with time_machine.travel(datetime(2025, 6, 26, 2, tzinfo=MOSCOW), tick=False):
        run = services.create_billing_run(month=date(2025, 6, 1))
        services.book_penalties(run_id=run.pk)
        result = selectors.penalty_breakdown(account, as_of=ON)
        user = UserFactory()
        link(user, account)
        client.force_login(user)
        page = client.get(reverse("billing:penalty", args=[account.number])).text

    assert [line.denominator for line in result.lines] == fractions
    entry = LedgerEntry.objects.get(account=account, kind="penalty")
    assert (entry.amount, entry.booked_on) == (result.total, ON)
    assert entry.reason == f"Пени по 26.06.2025 ({basis})"
    assert BillingRun.objects.get(pk=run.pk).calculated_on == ON
    # The cabinet shows every band's line and the rule with the part of the law.
    shown = re.findall(r"<td>1/(\d+)</td>", page)
    assert [int(n) for n in shown] == fractions
    rule = re.search(r'data-testid="penalty-rule">(.*?)</p>', page, re.S)[1]
    if kind == "managing_org":
        assert "с 61-го по 90-й день — 1/170" in rule
        assert "ч. 6.4 ст. 13, ч. 6.4 ст. 14 Федерального закона" in rule
    assert result.total > Decimal("0")
