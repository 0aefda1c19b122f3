"""The accountant's registry pages in the admin: uploading a registry and reading its report,
refusals shown in Russian with nothing booked, the operator kept out, resolving an
unidentified payment, the accrual registry page and the reconciliation with the agents. The
clock is frozen at 20.11.2025 12:00 Moscow time."""

import html
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.services import account_number_for
from billing.models import Payment, PaymentAgent, Period, RegistryImport, UnidentifiedPayment
from billing.payments.registries import services as registries
from billing.payments.registries.services import import_registry
from billing.services import ensure_period
from tests.billing.test_registries import DATA, SAMPLE_ACCOUNTS, line, registry_file
from tests.factories import PersonalAccountFactory, staff_user

MOSCOW = ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2025, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture
def agent(staff_groups, payment_agents):
    """The Sberbank agent; the fixtures also grant the groups billing's permissions."""
    return PaymentAgent.objects.get(code="sberbank")


@pytest.fixture
def accountant(client, agent):
    user = staff_user("accountant")
    client.force_login(user)
    return user


@pytest.fixture
def operator(client, agent):
    user = staff_user("operator")
    client.force_login(user)
    return user


def text(page) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", " ", page.content.decode())).replace("\xa0", " ")
    return re.sub(r"\s+", " ", plain).strip()


def upload(client, agent, data: bytes, name: str = "sb_20251114.txt"):
    return client.post(
        reverse("admin:billing_registryimport_add"),
        {"agent": agent.pk, "file": SimpleUploadedFile(name, data)},
    )


def test_accountant_uploads_a_registry_and_sees_its_report(client, accountant, agent):
    for number in SAMPLE_ACCOUNTS[:5]:
        PersonalAccountFactory(number=number, opened_on=date(2020, 1, 1))

    form = client.get(reverse("admin:billing_registryimport_add"))
    response = upload(client, agent, DATA.read_bytes())

    assert form.status_code == 200
    assert "Загрузка реестра платежей" in text(form)
    registry = RegistryImport.objects.get()
    assert (registry.imported_by, registry.booked, registry.unidentified) == (accountant, 5, 1)
    assert response.status_code == 302
    assert response.url == reverse("admin:billing_registryimport_change", args=[registry.pk])
    report = text(client.get(response.url))
    assert "Протокол загрузки: sb_20251114.txt" in report
    assert "Учтены: 5" in report
    assert "Невыясненные: 1" in report
    assert (
        f"6 14.11.2025 4312345606 {SAMPLE_ACCOUNTS[5]} 1 100,00 ₽ "
        f"Лицевой счёт {SAMPLE_ACCOUNTS[5]} не найден."
    ) in report
    assert "Показания не приняты: 3" in report
    assert "Счётчик № B654321 не найден на лицевом счёте" in report


def test_a_refused_file_shows_every_reason_and_books_nothing(client, accountant, agent):
    data = registry_file(
        line("1", SAMPLE_ACCOUNTS[0], "100.00", day="32-11-2025"),
        line("2", SAMPLE_ACCOUNTS[0], "-5"),
        total="95.00",
    )

    response = upload(client, agent, data)

    assert response.status_code == 200
    page = text(response)
    assert "Строка 1: дата оплаты «32-11-2025» не в формате ДД-ММ-ГГГГ." in page
    assert "Строка 2: сумма платежа «-5» не число в рублях с копейками." in page
    assert not RegistryImport.objects.exists()
    assert not Payment.objects.exists()


def test_the_same_file_twice_is_refused_on_the_page(client, accountant, agent):
    upload(client, agent, DATA.read_bytes())

    response = upload(client, agent, DATA.read_bytes(), name="again.txt")

    assert "Этот файл уже загружен 20.11.2025 12:00 (sb_20251114.txt" in text(response)
    assert RegistryImport.objects.count() == 1


def test_operator_may_not_upload_registries(client, operator, agent):
    assert client.get(reverse("admin:billing_registryimport_add")).status_code == 403
    assert upload(client, agent, DATA.read_bytes()).status_code == 403
    assert not RegistryImport.objects.exists()


def test_operator_may_not_see_reports_or_reconciliation(client, operator, agent):
    registry = import_registry(agent=agent, data=DATA.read_bytes(), file_name="sb.txt")

    change = client.get(reverse("admin:billing_registryimport_change", args=[registry.pk]))
    reconciliation = client.get(reverse("admin:billing_registryimport_reconciliation"))

    assert (change.status_code, reconciliation.status_code) == (403, 403)


def test_accountant_resolves_an_unidentified_payment(client, accountant, agent):
    payer = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    import_registry(
        agent=agent,
        data=registry_file(line("5", account_number_for(9999), "250.00")),
        file_name="a.txt",
    )
    item = UnidentifiedPayment.objects.get()
    url = reverse("admin:billing_unidentifiedpayment_resolve", args=[item.pk])

    page = client.get(url)
    response = client.post(url, {"account": payer.number}, follow=True)

    assert f"Причина: Лицевой счёт {account_number_for(9999)} не найден." in text(page)
    payment = Payment.objects.get()
    assert (payment.account, payment.amount, payment.created_by) == (
        payer,
        Decimal("250.00"),
        accountant,
    )
    assert f"Платёж 250,00 ₽ от 17.11.2025 зачислен на лицевой счёт {payer.number}." in text(
        response
    )
    item.refresh_from_db()
    assert item.status == "resolved"
    again = client.post(url, {"account": payer.number})
    assert "Этот платёж уже зачислен на лицевой счёт." in text(again)
    assert Payment.objects.count() == 1


def test_resolve_page_refuses_an_unknown_account(client, accountant, agent):
    import_registry(
        agent=agent,
        data=registry_file(line("5", account_number_for(9999), "250.00")),
        file_name="a.txt",
    )
    item = UnidentifiedPayment.objects.get()

    response = client.post(
        reverse("admin:billing_unidentifiedpayment_resolve", args=[item.pk]),
        {"account": account_number_for(8888)},
    )

    assert "Лицевой счёт с таким номером не найден." in text(response)
    assert not Payment.objects.exists()


def test_operator_sees_unidentified_payments_but_may_not_resolve(client, operator, agent):
    import_registry(
        agent=agent,
        data=registry_file(line("5", account_number_for(9999), "250.00")),
        file_name="a.txt",
    )
    item = UnidentifiedPayment.objects.get()

    listing = client.get(reverse("admin:billing_unidentifiedpayment_changelist"))
    resolve = client.post(
        reverse("admin:billing_unidentifiedpayment_resolve", args=[item.pk]),
        {"account": account_number_for(1)},
    )

    assert listing.status_code == 200
    assert f"Лицевой счёт {account_number_for(9999)} не найден." in text(listing)
    assert resolve.status_code == 403


def test_reconciliation_page_shows_the_differences(client, accountant, agent):
    payer = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    data = registry_file(line("1", payer.number, "70.00"), line("2", payer.number, "30.00"))
    import_registry(agent=agent, data=data, file_name="a.txt")
    import_registry(
        agent=agent, data=registry_file(line("2", payer.number, "30.00")), file_name="b"
    )

    response = client.get(
        reverse("admin:billing_registryimport_reconciliation"),
        {"date_from": "17.11.2025", "date_to": "17.11.2025"},
    )

    assert response.status_code == 200
    assert "17.11.2025 ПАО Сбербанк 130,00 ₽ 100,00 ₽ 0,00 ₽ 30,00 ₽ — расхождение" in text(
        response
    )


def test_accrual_registry_page_refuses_a_period_not_billed(client, accountant, agent):
    period = ensure_period(date(2025, 10, 1))

    page = client.get(reverse("admin:billing_accrualregistry_add"))
    response = client.post(
        reverse("admin:billing_accrualregistry_add"),
        {"period": period.pk, "agents": [agent.pk]},
        follow=True,
    )

    assert page.status_code == 200
    assert "Сформировать реестр начислений" in text(page)
    assert (
        "ПАО Сбербанк: Реестр начислений за 10.2025 формируется после завершённого расчёта "
        "начислений за этот период."
    ) in text(response)


def test_operator_may_not_build_accrual_registries(client, operator):
    assert client.get(reverse("admin:billing_accrualregistry_add")).status_code == 403


def test_accountant_pages_of_agents_registries_and_accruals_open(client, accountant, agent):
    registry = import_registry(agent=agent, data=DATA.read_bytes(), file_name="sb.txt")
    item = UnidentifiedPayment.objects.first()

    pages = [
        reverse("admin:billing_paymentagent_changelist"),
        reverse("admin:billing_paymentagent_change", args=[agent.pk]),
        reverse("admin:billing_registryimport_changelist"),
        reverse("admin:billing_unidentifiedpayment_changelist") + "?status__exact=open",
        reverse("admin:billing_unidentifiedpayment_change", args=[item.pk]),
        reverse("admin:billing_accrualregistry_changelist"),
    ]

    assert [client.get(url).status_code for url in pages] == [200] * len(pages)
    listing = text(client.get(reverse("admin:billing_registryimport_changelist")))
    assert "Загрузить реестр" in listing
    assert "Сверка с агентами" in listing
    assert registry.file_name in listing


def test_accountant_edits_an_agents_format_and_a_broken_one_is_refused(client, accountant, agent):
    url = reverse("admin:billing_paymentagent_change", args=[agent.pk])
    form = {
        "name": agent.name,
        "code": agent.code,
        "is_active": "on",
        "encoding": "cp1251",
        "separator": "|",
        "date_format": "%d.%m.%Y",
        "time_format": "",
        "period_format": "%m%Y",
        "columns": '{"date": 0, "operation": 1, "account": 2, "amount": 3}',
        "readings_from": "",
        "summary_prefix": "#",
        "summary_columns": '{"count": 0, "amount": 1}',
    }

    broken = client.post(url, {**form, "encoding": "cp9999", "columns": '{"date": 0}'})
    saved = client.post(url, form)

    assert "Неизвестная кодировка «cp9999»." in text(broken)
    assert "Не указаны колонки: operation, account, amount." in text(broken)
    assert saved.status_code == 302
    agent.refresh_from_db()
    assert (agent.separator, agent.readings_from, agent.summary_prefix) == ("|", None, "#")
    data = "17.11.2025|1|2300012347|10,00\r\n#1|10,00\r\n".encode("cp1251")
    parsed = registries.parse_registry(data, agent)
    assert (parsed.lines[0].amount, parsed.lines[0].transferred) == (
        Decimal("10.00"),
        Decimal("10.00"),
    )


# --- Hostile uploads (security review) ---


def test_a_file_over_the_size_limit_is_refused_on_the_page(client, accountant, agent, settings):
    settings.REGISTRY_MAX_BYTES = 512

    response = upload(client, agent, DATA.read_bytes())

    assert response.status_code == 200
    assert (
        "Файл больше 512 байт: реестр такого размера не загружается. Проверьте, тот ли это "
        "файл, или попросите агента разделить реестр."
    ) in text(response)
    assert not RegistryImport.objects.exists()
    assert not Payment.objects.exists()


def test_the_upload_hands_the_file_to_the_import_unread(client, accountant, agent, monkeypatch):
    """The import reads it in chunks (test_registries: ChunksOnly), never the page whole."""
    for number in SAMPLE_ACCOUNTS:
        PersonalAccountFactory(number=number, opened_on=date(2020, 1, 1))
    given = []
    real = registries.import_registry

    def spy(**kwargs):
        given.append(kwargs["data"])
        return real(**kwargs)

    monkeypatch.setattr(registries, "import_registry", spy)

    response = upload(client, agent, DATA.read_bytes())

    assert response.status_code == 302
    assert RegistryImport.objects.get().booked == 6
    assert [type(data).__name__ for data in given] == ["InMemoryUploadedFile"]


def test_a_junk_file_shows_a_hundred_reasons_and_the_count_of_the_rest(client, accountant, agent):
    data = registry_file(*(line(str(n), SAMPLE_ACCOUNTS[0], day="32-11-2025") for n in range(1000)))

    response = upload(client, agent, data)

    page = text(response)
    assert "Строка 100: дата оплаты «32-11-2025» не в формате ДД-ММ-ГГГГ." in page
    assert "Строка 101:" not in page
    assert "Ещё ошибок в файле: 900 (показаны первые 100)." in page
    assert len(response.content) < 200_000
    assert not RegistryImport.objects.exists()


def test_a_payment_dated_9999_is_refused_on_the_page_and_opens_no_period(client, accountant, agent):
    payer = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    data = registry_file(line("1", payer.number, day="31-12-9999", period="122999"))

    response = upload(client, agent, data)

    assert response.status_code == 200
    page = text(response)
    assert "Строка 1: дата оплаты 31.12.9999 позже сегодняшнего дня (20.11.2025)." in page
    assert "Строка 1: период «122999» (12.2999) не принимается" in page
    assert not Period.objects.exists()
    assert not Payment.objects.exists()


def test_an_amount_of_a_trillion_is_refused_on_the_page_not_a_server_error(
    client, accountant, agent
):
    payer = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    data = registry_file(line("1", payer.number, "1000000000000.00"))

    response = upload(client, agent, data)

    assert response.status_code == 200
    assert "Строка 1: сумма платежа «1000000000000.00» больше допустимой" in text(response)
    assert not RegistryImport.objects.exists()
    assert not Payment.objects.exists()
