"""The accrual registry out (docs/formats.md §1): one CP1251 line per open account after the
billing run, the amount due never negative, the meters with their last readings; a rebuild
replaces the file; a period without a finished run is refused. The clock is frozen at
03.11.2025 12:00 Moscow time, after October's run."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import selectors, services
from billing.models import AccrualRegistry, PaymentAgent
from billing.payments.accruals import build_accrual_registry
from tests.billing.conftest import bill, read
from tests.factories import MeterFactory, PersonalAccountFactory, SubscriberFactory, staff_user

MOSCOW = ZoneInfo("Europe/Moscow")
OCTOBER = date(2025, 10, 1)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 11, 3, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture
def agent(payment_agents):
    return PaymentAgent.objects.get(code="sberbank")


def account(name: str, address: str, **fields):
    return PersonalAccountFactory(
        subscriber=SubscriberFactory(name=name),
        address=address,
        opened_on=date(2020, 1, 1),
        **fields,
    )


@pytest.fixture
def billed(legal_data, rates):
    """October billed for three open accounts and a closed one; one has paid in advance."""
    debtor = account("Иванов Иван Иванович", "г. Краснодар, ул. Северная, д. 12, кв. 5")
    meter = MeterFactory(account=debtor, serial="A123456")
    read(meter, "110.500", date(2025, 10, 20))
    MeterFactory(account=debtor, serial="B654321", kind="hot", initial_reading=Decimal("5.000"))
    MeterFactory(account=debtor, serial="X000001", state="broken")
    payer = account("Петрова Анна Сергеевна", "г. Краснодар; ул. Красная, д. 3")
    services.register_payment(
        account_id=payer.pk,
        amount=Decimal("1000.00"),
        paid_on=date(2025, 10, 5),
        source="cash_desk",
        external_id="К-1",
    )
    plain = account("Сидоров Пётр Ильич", "г. Краснодар, ул. Гагарина, д. 40, кв. 2")
    closed = account("Закрытый Счёт", "г. Краснодар", closed_on=date(2025, 9, 30))
    bill(OCTOBER)
    return debtor, payer, plain, closed


def lines_of(registry: AccrualRegistry) -> list[str]:
    with registry.file.open("rb") as file:
        return file.read().decode("cp1251").split("\r\n")


def test_one_line_per_open_account_with_due_amount_and_meters(agent, billed):
    debtor, payer, plain, _ = billed
    period = services.ensure_period(OCTOBER)
    due = selectors.amounts_due(period=period)

    registry = build_accrual_registry(agent=agent, period=period)

    assert due[payer.pk] < 0  # a credit: the agent is told 0.00
    assert lines_of(registry) == [
        f"{debtor.number};Иванов Иван Иванович;г. Краснодар, ул. Северная, д. 12, кв. 5;"
        f"102025;{due[debtor.pk]};A123456:00110.500;B654321:00005.000",
        f"{payer.number};Петрова Анна Сергеевна;г. Краснодар, ул. Красная, д. 3;102025;0.00",
        f"{plain.number};Сидоров Пётр Ильич;г. Краснодар, ул. Гагарина, д. 40, кв. 2;"
        f"102025;{due[plain.pk]}",
        "",
    ]
    assert due[plain.pk] == Decimal("630.00")  # the norm: 2 residents x 3.5 m3 x 90
    assert (registry.agent, registry.period, registry.lines, registry.total) == (
        agent,
        period,
        3,
        due[debtor.pk] + Decimal("630.00"),
    )


def test_a_rebuild_replaces_the_file_of_the_same_agent_and_period(agent, billed, settings):
    period = services.ensure_period(OCTOBER)
    first = build_accrual_registry(agent=agent, period=period)
    old_name = first.file.name
    account("Новый Абонент", "г. Краснодар, ул. Новая, д. 1")

    second = build_accrual_registry(agent=agent, period=period)

    assert AccrualRegistry.objects.get() == second
    assert second.lines == 4
    assert len(lines_of(second)) == 5
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "accruals").iterdir()) == [
        second.file.name.removeprefix("accruals/")
    ]
    assert not second.file.storage.exists(old_name)


def test_the_number_of_queries_does_not_grow_with_accounts(agent, billed):
    period = services.ensure_period(OCTOBER)
    with CaptureQueriesContext(connection) as few:
        build_accrual_registry(agent=agent, period=period)
    for number in range(5):
        MeterFactory(account=account(f"Абонент {number}", "г. Краснодар"))

    with CaptureQueriesContext(connection) as many:
        build_accrual_registry(agent=agent, period=period)

    assert len(many) == len(few)


def test_a_period_without_a_finished_run_is_refused(agent):
    period = services.ensure_period(OCTOBER)

    with pytest.raises(ValidationError) as caught:
        build_accrual_registry(agent=agent, period=period)

    assert caught.value.code == "not_billed"
    assert caught.value.messages == [
        "Реестр начислений за 10.2025 формируется после завершённого расчёта начислений "
        "за этот период."
    ]
    assert not AccrualRegistry.objects.exists()


def test_accountant_builds_and_downloads_the_registry_in_the_admin(client, agent, billed):
    client.force_login(staff_user("accountant"))
    period = services.ensure_period(OCTOBER)

    response = client.post(
        reverse("admin:billing_accrualregistry_add"),
        {"period": period.pk, "agents": [agent.pk]},
        follow=True,
    )

    registry = AccrualRegistry.objects.get()
    assert "ПАО Сбербанк: реестр начислений за 10.2025 сформирован, строк 3" in response.text
    download = client.get(reverse("admin:billing_accrualregistry_download", args=[registry.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="sberbank-102025.txt"'
    assert b"".join(download.streaming_content).decode("cp1251").startswith(billed[0].number + ";")
