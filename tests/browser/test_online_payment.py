"""A subscriber with a debt pays online from a phone through the demo bank, end to end.

The account is billed through the real run on the server's clock set to 20.11.2026 (Moscow):
a cold-water meter (100 m³ at installation), population tariffs 50.00 + 40.00 ₽/m³, 10 m³
read on 20.10.2026, so October's charge is 10 x 90.00 = 900.00 and nothing is paid yet.
The subscriber pays 600,00 of it; the debt becomes 300.00.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from billing import selectors
from billing.models import OnlinePayment, Payment
from tests.billing.conftest import bill, make_norms, make_tariffs, read
from tests.factories import MeterFactory, PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
OCTOBER = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _server_clock():
    # tick=True: the clock runs on from 20.11.2026 12:00, so the browser's timers work.
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        yield


@pytest.fixture(autouse=True)
def _demo_gateway(settings):
    settings.PAYMENT_GATEWAY = "demo"
    settings.DEMO_GATEWAY_ENABLED = True  # pytest runs with DEBUG off


@pytest.fixture
def debtor(legal_data):
    make_tariffs()
    make_norms()
    user = UserFactory()
    account = PersonalAccountFactory(opened_on=date(2026, 1, 1))
    link(user, account)
    read(MeterFactory(account=account), "110", date(2026, 10, 20))
    bill(OCTOBER)
    return user, account


def shown(locator) -> str:
    """The text of an element with non-breaking spaces as plain ones."""
    return " ".join(locator.inner_text().replace("\xa0", " ").split())


def test_subscriber_pays_the_debt_through_the_demo_bank_from_a_phone(
    page, log_in, axe_violations, debtor
):
    user, account = debtor
    assert selectors.account_balance(account).principal == Decimal("900.00")
    page.set_viewport_size(PHONE)
    log_in(user)

    page.goto(f"/cabinet/accounts/{account.number}/pay/")

    expect(page.get_by_role("heading", name="Оплата онлайн", level=1)).to_be_visible()
    amount = page.get_by_label("Сумма, ₽")
    expect(amount).to_have_value("900,00")
    assert axe_violations() == []
    amount.fill("600,00")
    page.get_by_label("За какой месяц").select_option(label="октябрь 2026 — долг 900,00 ₽")
    page.get_by_role("button", name="Перейти к оплате").click()

    expect(page.get_by_role("heading", name="Демонстрационный банк", level=1)).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(
        "Демонстрационный банк — деньги не списываются"
    )
    assert shown(page.get_by_test_id("demo-amount")) == "600,00 ₽"
    assert axe_violations() == []
    page.get_by_role("button", name="Оплатить").click()

    expect(page.get_by_role("heading", name="Оплата получена", level=1)).to_be_visible()
    assert shown(page.get_by_test_id("online-amount")) == "600,00 ₽"
    assert shown(page.get_by_test_id("online-status")) == "Оплачен"
    assert axe_violations() == []
    payment = Payment.objects.get(account=account)
    assert (payment.amount, payment.source, payment.for_month) == (
        Decimal("600.00"),
        "cabinet",
        OCTOBER,
    )
    assert OnlinePayment.objects.get().payment == payment

    page.get_by_role("link", name="К начислениям и оплатам").click()

    expect(page.get_by_role("heading", name="Начисления и оплата", level=1)).to_be_visible()
    assert shown(page.get_by_test_id("principal")) == "300,00 ₽"
    assert selectors.account_balance(account).principal == Decimal("300.00")


def test_subscriber_refuses_at_the_demo_bank_and_nothing_is_paid(page, log_in, debtor):
    user, account = debtor
    page.set_viewport_size(PHONE)
    log_in(user)

    page.goto(f"/cabinet/accounts/{account.number}/pay/")
    page.get_by_role("button", name="Перейти к оплате").click()
    page.get_by_role("button", name="Отказаться").click()

    expect(page.get_by_role("heading", name="Оплата не прошла", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Оплатить ещё раз")).to_be_visible()
    assert not Payment.objects.filter(account=account).exists()
    assert selectors.account_balance(account).principal == Decimal("900.00")
