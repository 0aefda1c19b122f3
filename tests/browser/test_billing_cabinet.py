"""A subscriber with a debt looks at it from a phone: balance, why the penalty, a receipt.

The account is billed through the real run on the server's clock set to 20.11.2026 (Moscow).
A cold-water meter, population tariffs 50.00 + 40.00 ₽/m³, due the 10th:

    month   m³  charged  paid
    07.2026 10   900.00  900.00 on 25.09 (late: 16 days past day 30, 10.09-25.09)
    08.2026  8   720.00  720.00 on 05.09
    09.2026 12  1080.00 1080.00 on 05.10
    10.2026  9   810.00  —      (due 10.11: 10 days overdue, no penalty before day 31)

Penalty: 900 x 16 x 16.5 / 100 / 300 = 7.92, booked by the September run; nothing accrues
after it, so the breakdown on 20.11 and the ledger agree.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Sum
from playwright.sync_api import expect

from billing import selectors
from billing.models import LedgerEntry, Payment, Receipt
from billing.services import register_payment
from tests.billing.conftest import bill, bill_and_close, make_norms, make_tariffs, read
from tests.factories import MeterFactory, PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
JULY, AUGUST, SEPTEMBER, OCTOBER = (date(2026, m, 1) for m in (7, 8, 9, 10))


@pytest.fixture(autouse=True)
def _server_clock():
    # tick=True: the clock runs on from 20.11.2026 12:00, so the browser's timers work.
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        yield


def pay(account, amount: str, paid_on: date, external_id: str, for_month: date) -> None:
    register_payment(
        account_id=account.pk,
        amount=Decimal(amount),
        paid_on=paid_on,
        source=Payment.Source.BANK_REGISTRY,
        external_id=external_id,
        for_month=for_month,
    )


@pytest.fixture
def debtor(legal_data):
    # The tariffs and norms of tests/billing/conftest.py's `rates` (not visible here).
    make_tariffs()
    make_norms()
    user = UserFactory()
    account = PersonalAccountFactory(opened_on=date(2024, 1, 1))
    link(user, account)
    meter = MeterFactory(account=account)
    for value, month in (("110", JULY), ("118", AUGUST), ("130", SEPTEMBER), ("139", OCTOBER)):
        read(meter, value, month.replace(day=20))
    bill_and_close(JULY, AUGUST)
    pay(account, "720.00", date(2026, 9, 5), "SB-1", AUGUST)
    pay(account, "900.00", date(2026, 9, 25), "SB-2", JULY)
    bill_and_close(SEPTEMBER)
    pay(account, "1080.00", date(2026, 10, 5), "SB-3", SEPTEMBER)
    bill(OCTOBER)
    return user, account


def ledger_total(account, kinds) -> Decimal:
    return LedgerEntry.objects.filter(account=account, kind__in=kinds).aggregate(s=Sum("amount"))[
        "s"
    ]


def shown(locator) -> str:
    """The text of an element with non-breaking spaces as plain ones."""
    return " ".join(locator.inner_text().replace("\xa0", " ").split())


def test_subscriber_sees_debt_penalty_breakdown_and_downloads_a_receipt_on_a_phone(
    page, log_in, axe_violations, debtor
):
    user, account = debtor
    principal = ledger_total(account, ["charge", "adjustment", "payment"])
    penalty = ledger_total(account, ["penalty", "penalty_payment"])
    assert (principal, penalty) == (Decimal("810.00"), Decimal("7.92"))
    page.set_viewport_size(PHONE)
    log_in(user)

    page.goto(f"/cabinet/accounts/{account.number}/")
    assert axe_violations() == []
    page.get_by_role("link", name="Начисления и оплата").click()

    expect(page.get_by_role("heading", name="Начисления и оплата", level=1)).to_be_visible()
    assert shown(page.get_by_test_id("principal")) == "810,00 ₽"
    debts = page.get_by_role("region", name="Долг по месяцам").get_by_role("row")
    expect(debts).to_have_count(2)  # the header and October
    assert shown(debts.nth(1)) == "октябрь 2026 810,00 ₽ 0,00 ₽ 810,00 ₽ 10.11.2026 10"
    assert shown(page.get_by_test_id("penalty")) == "7,92 ₽"  # booked by the October run
    assert shown(page.get_by_test_id("penalty-to-date")) == "7,92 ₽ — как рассчитаны пени"
    assert axe_violations() == []

    page.get_by_role("link", name="как рассчитаны пени").click()

    expect(page.get_by_role("heading", name="Как рассчитаны пени")).to_be_visible()
    lines = page.get_by_role("region", name="Расчёт на 20.11.2026").locator("tbody tr")
    expect(lines).to_have_count(1)
    assert shown(lines.first) == (
        "июль 2026 10.09.2026 25.09.2026 16 900,00 ₽ 16,5 % 1/300 "
        "900,00 × 16 × 16,50 / 100 / 300 7,92 ₽"
    )
    assert shown(page.get_by_test_id("penalty-total")) == "7,92 ₽"
    assert selectors.penalty_breakdown(account).total == penalty
    assert axe_violations() == []

    page.goto(f"/cabinet/accounts/{account.number}/")
    page.get_by_role("link", name="Квитанции", exact=True).click()

    expect(page.get_by_role("heading", name="Квитанции (ЕПД)")).to_be_visible()
    expect(page.get_by_role("link", name="Скачать PDF")).to_have_count(4)
    assert axe_violations() == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Скачать PDF за октябрь 2026").click()
    download = download_info.value

    assert download.suggested_filename == f"kvitanciya-{account.number}-2026-10.pdf"
    with open(download.path(), "rb") as pdf:
        body = pdf.read()
    assert body[:5] == b"%PDF-"
    receipt = Receipt.objects.get(account=account)
    assert receipt.period.month == OCTOBER
    with receipt.pdf.open("rb") as stored:
        assert stored.read() == body
