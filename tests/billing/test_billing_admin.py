"""The accountant's workplace in the admin: periods and their actions, runs and their progress,
permissions of the staff groups, payments and corrections through the forms, the ledger's
totals and its read-only rows, the staff reconciliation act. The clock is frozen at
20.11.2026 12:00 Moscow time."""

import html
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db.models import Sum
from django.urls import reverse

from billing import selectors, services, tasks
from billing.models import BillingRun, KeyRate, LedgerEntry, Payment, Period, Service, Tariff
from tests.billing.conftest import bill, bill_and_close, make_tariffs, read
from tests.factories import (
    LegalSubscriberFactory,
    MeterFactory,
    PersonalAccountFactory,
    UserFactory,
    staff_user,
)

MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 11, 20)
SEPTEMBER, OCTOBER, NOVEMBER = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
pytestmark = pytest.mark.django_db
billing_db = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=MOSCOW), tick=False):
        yield


@pytest.fixture
def queued(monkeypatch):
    """Run ids handed to the worker (the broker is the process edge: nothing is sent)."""
    calls = []
    monkeypatch.setattr(tasks.run_billing, "delay_on_commit", calls.append)
    return calls


@pytest.fixture
def accountant(client, db):
    user = staff_user("accountant")
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def text(fragment: str) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", plain).strip()


def period_action(client, action: str, *periods: Period):
    return client.post(
        reverse("admin:billing_period_changelist"),
        {"action": action, "_selected_action": [period.pk for period in periods]},
    )


# --- Periods: run, close ---


def test_accountant_queues_a_billing_run_for_an_open_period(client, accountant, queued):
    period = services.ensure_period(OCTOBER)

    response = period_action(client, "run_billing", period)

    run = BillingRun.objects.get()
    assert (run.period, run.status, run.started_by) == (period, "queued", accountant)
    assert queued == [run.pk]
    assert response.status_code == 302
    assert response.url == reverse("admin:billing_billingrun_change", args=[run.pk])
    assert messages_of(response) == ["Расчёт за 10.2026 поставлен в очередь."]
    assert not LedgerEntry.objects.exists()  # the worker books the charges, not the request


def test_a_second_run_is_refused_while_one_is_queued(client, accountant, queued):
    period = services.ensure_period(OCTOBER)
    period_action(client, "run_billing", period)

    response = period_action(client, "run_billing", period)

    assert messages_of(response) == [
        "Расчёт за 10.2026 поставлен в очередь.",  # the first request's, not shown yet
        "Расчёт за 10.2026 уже выполняется.",
    ]
    assert BillingRun.objects.count() == 1
    assert len(queued) == 1


def test_operator_has_no_billing_actions(client, queued):
    period = services.ensure_period(OCTOBER)
    client.force_login(staff_user("operator"))

    page = client.get(reverse("admin:billing_period_changelist"))
    response = period_action(client, "run_billing", period)

    assert page.status_code == 200
    assert "Запустить расчёт начислений" not in page.text
    assert not BillingRun.objects.exists()
    assert queued == []
    assert response.status_code == 200  # the list again: the operator has no actions


@billing_db
def test_accountant_closes_a_billed_period_and_the_next_one_opens(
    client, legal_data, rates, queued
):
    accountant = staff_user("accountant")
    client.force_login(accountant)
    bill(OCTOBER)
    period = Period.objects.get(month=OCTOBER)

    response = period_action(client, "close", period)

    period.refresh_from_db()
    assert (period.status, period.closed_by, period.closed_at is not None) == (
        "closed",
        accountant,
        True,
    )
    assert Period.objects.get(month=NOVEMBER).status == "open"
    assert messages_of(response) == ["Период 10.2026 закрыт."]


@billing_db
def test_a_closed_period_cannot_be_billed_again(client, legal_data, rates, queued):
    client.force_login(staff_user("accountant"))
    bill_and_close(OCTOBER)
    period = Period.objects.get(month=OCTOBER)
    runs = list(BillingRun.objects.values_list("pk", flat=True))

    response = period_action(client, "run_billing", period)

    assert messages_of(response) == [
        "Период 10.2026 закрыт: его начисления не меняются. Перерасчёт попадёт в открытый период."
    ]
    assert list(BillingRun.objects.values_list("pk", flat=True)) == runs
    assert queued == []


@billing_db
def test_a_period_without_a_finished_run_is_not_closed(client, legal_data, rates):
    client.force_login(staff_user("accountant"))
    period = services.ensure_period(OCTOBER)

    response = period_action(client, "close", period)

    assert messages_of(response) == [
        "Период 10.2026 нельзя закрыть: нет завершённого расчёта начислений."
    ]
    period.refresh_from_db()
    assert period.status == "open"
    assert not Period.objects.filter(month=NOVEMBER).exists()


# --- Permissions of the groups ---


@pytest.fixture
def tariff(db):
    make_tariffs()
    return Tariff.objects.get(service="water_supply", category="population")


def tariff_form(tariff: Tariff, price: str) -> dict:
    return {
        "service": tariff.service,
        "category": tariff.category,
        "price": price,
        "valid_from": f"{tariff.valid_from:%d.%m.%Y}",
        "valid_to": "",
        "basis": "приказ РЭК № 1",
    }


def test_operator_cannot_change_tariffs_but_sees_the_ledger(client, tariff):
    client.force_login(staff_user("operator"))
    url = reverse("admin:billing_tariff_change", args=[tariff.pk])

    assert client.get(url).status_code == 403
    assert client.post(url, tariff_form(tariff, "99.00")).status_code == 403
    assert client.get(reverse("admin:billing_tariff_add")).status_code == 403
    tariff.refresh_from_db()
    assert tariff.price == Decimal("50.00")
    assert client.get(reverse("admin:billing_ledgerentry_changelist")).status_code == 200


def test_accountant_changes_a_tariff_and_the_change_is_in_its_history(client, accountant, tariff):
    url = reverse("admin:billing_tariff_change", args=[tariff.pk])

    response = client.post(url, tariff_form(tariff, "55.00"))

    assert response.status_code == 302
    tariff.refresh_from_db()
    assert (tariff.price, tariff.basis) == (Decimal("55.00"), "приказ РЭК № 1")
    last = tariff.history.first()
    assert (last.price, last.history_user) == (Decimal("55.00"), accountant)


def test_lawyer_sees_key_rates_but_cannot_add_tariffs(client, legal_data, tariff):
    client.force_login(staff_user("lawyer"))
    rate = KeyRate.objects.get(valid_from=date(2025, 10, 27))

    listing = client.get(reverse("admin:billing_keyrate_changelist"))
    detail = client.get(reverse("admin:billing_keyrate_change", args=[rate.pk]))
    change = client.post(
        reverse("admin:billing_keyrate_change", args=[rate.pk]),
        {"valid_from": "27.10.2025", "rate": "1.00", "source": "staff"},
    )
    add_page = client.get(reverse("admin:billing_tariff_add"))
    add = client.post(
        reverse("admin:billing_tariff_add"),
        {**tariff_form(tariff, "70.00"), "category": "other", "valid_from": "01.01.2030"},
    )

    assert listing.status_code == 200
    assert reverse("admin:billing_keyrate_change", args=[rate.pk]) in listing.text
    assert detail.status_code == 200
    assert change.status_code == 403
    rate.refresh_from_db()
    assert rate.rate == Decimal("16.50")
    assert (add_page.status_code, add.status_code) == (403, 403)
    assert Tariff.objects.count() == 4  # make_tariffs: two services x two categories


# --- Payments by staff ---


def payment_form(account, **changes) -> dict:
    return {
        "account": account.number,
        "amount": "1500,50",
        "paid_on": "18.11.2026",
        "source": "cash_desk",
        "external_id": "ЧЕК-0001",
        "for_month": "10.2026",
        **changes,
    }


def test_payment_added_in_the_admin_is_booked_in_the_ledger(client, accountant, account):
    response = client.post(reverse("admin:billing_payment_add"), payment_form(account))

    assert response.status_code == 302
    assert response.url == reverse("admin:billing_payment_changelist")
    payment = Payment.objects.get()
    assert (
        payment.account,
        payment.amount,
        payment.paid_on,
        payment.source,
        payment.external_id,
        payment.for_month,
        payment.for_penalty,
        payment.created_by,
    ) == (
        account,
        Decimal("1500.50"),
        date(2026, 11, 18),
        "cash_desk",
        "ЧЕК-0001",
        OCTOBER,
        False,
        accountant,
    )
    entry = LedgerEntry.objects.get()
    assert (
        entry.account,
        entry.kind,
        entry.amount,
        entry.period.month,
        entry.booked_on,
        entry.for_month,
        entry.payment,
        entry.created_by,
    ) == (
        account,
        "payment",
        Decimal("-1500.50"),
        NOVEMBER,
        date(2026, 11, 18),
        OCTOBER,
        payment,
        accountant,
    )
    assert selectors.account_balance(account).principal == Decimal("-1500.50")
    assert messages_of(response) == ["Платёж 1500.50 ₽ от 18.11.2026 учтён."]


def test_same_document_number_with_other_data_is_a_conflict_and_books_nothing(
    client, accountant, account
):
    url = reverse("admin:billing_payment_add")
    client.post(url, payment_form(account))

    response = client.post(url, payment_form(account, amount="1600,00"))

    assert response.status_code == 200
    assert "Операция ЧЕК-0001 уже учтена с другими данными." in text(response.text)
    assert Payment.objects.get().amount == Decimal("1500.50")
    assert LedgerEntry.objects.count() == 1


def test_the_same_payment_entered_twice_is_booked_once(client, accountant, account):
    url = reverse("admin:billing_payment_add")
    client.post(url, payment_form(account))

    response = client.post(url, payment_form(account))

    assert response.status_code == 302
    assert Payment.objects.count() == LedgerEntry.objects.count() == 1


def test_payment_in_the_future_is_refused(client, accountant, account):
    response = client.post(
        reverse("admin:billing_payment_add"), payment_form(account, paid_on="21.11.2026")
    )
    assert response.status_code == 200
    assert "Дата оплаты не может быть в будущем." in text(response.text)
    assert not Payment.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("group", ["operator", "lawyer"])
def test_staff_without_the_add_payment_permission_cannot_book_a_payment(client, account, group):
    client.force_login(staff_user(group))

    page = client.get(reverse("admin:billing_payment_add"))
    response = client.post(reverse("admin:billing_payment_add"), payment_form(account))

    assert list(Payment.objects.values_list("external_id", "created_by__groups__name")) == []
    assert not LedgerEntry.objects.exists()
    assert (page.status_code, response.status_code) == (403, 403)


# --- Corrections (adjustments) ---


@pytest.fixture
def october_closed(legal_data, rates):
    """An account billed for October by readings; October closed, November open."""
    account = PersonalAccountFactory(opened_on=date(2024, 1, 1))
    read(MeterFactory(account=account), "110", date(2026, 10, 20))
    bill_and_close(OCTOBER)
    return account


def adjustment_form(account, **changes) -> dict:
    return {
        "account": account.number,
        "kind": "water_supply",
        "amount": "-120,00",
        "for_month": "10.2026",
        "reason": "  акт обследования № 7 от 14.11.2026  ",
        **changes,
    }


@billing_db
def test_adjustment_of_a_closed_month_is_booked_in_the_open_period(client, october_closed):
    accountant = staff_user("accountant")
    client.force_login(accountant)
    closed_before = list(LedgerEntry.objects.filter(period__month=OCTOBER).values())

    response = client.post(
        reverse("admin:billing_ledgerentry_adjust"), adjustment_form(october_closed)
    )

    assert response.status_code == 302
    assert response.url == (
        reverse("admin:billing_ledgerentry_changelist") + f"?q={october_closed.number}"
    )
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (
        entry.account,
        entry.period.month,
        entry.period.status,
        entry.service,
        entry.amount,
        entry.for_month,
        entry.booked_on,
        entry.reason,
        entry.created_by,
    ) == (
        october_closed,
        NOVEMBER,
        "open",
        "water_supply",
        Decimal("-120.00"),
        OCTOBER,
        TODAY,
        "акт обследования № 7 от 14.11.2026",
        accountant,
    )
    assert list(LedgerEntry.objects.filter(period__month=OCTOBER).values()) == closed_before
    assert messages_of(response) == ["Перерасчёт проведён: -120.00 ₽ в периоде 11.2026."]


@pytest.mark.parametrize("reason", ["", "   "])
def test_adjustment_without_a_reason_is_refused(client, accountant, account, reason):
    response = client.post(
        reverse("admin:billing_ledgerentry_adjust"), adjustment_form(account, reason=reason)
    )

    assert response.status_code == 200
    assert "Обязательное поле." in text(response.text)
    assert not LedgerEntry.objects.exists()


def test_zero_adjustment_is_refused_in_russian(client, accountant, account):
    response = client.post(
        reverse("admin:billing_ledgerentry_adjust"), adjustment_form(account, amount="0")
    )

    assert response.status_code == 200
    assert "Сумма перерасчёта не может быть нулевой." in text(response.text)
    assert not LedgerEntry.objects.exists()


def test_lawyer_writes_off_a_penalty_and_the_operator_may_not_adjust(client, account):
    LedgerEntry.objects.create(
        account=account,
        period=services.ensure_period(OCTOBER),
        kind="penalty",
        amount=Decimal("3.50"),
        for_month=OCTOBER,
        booked_on=date(2026, 10, 31),
    )  # fmt: skip  (a waiver is never larger than the penalties owed)
    url = reverse("admin:billing_ledgerentry_adjust")
    client.force_login(staff_user("operator"))
    refused = client.post(url, adjustment_form(account))
    client.force_login(staff_user("lawyer"))
    booked = client.post(
        url, adjustment_form(account, kind="penalty", amount="-3,50", reason="мировое соглашение")
    )

    assert refused.status_code == 403
    assert booked.status_code == 302
    entry = LedgerEntry.objects.latest("pk")
    assert (entry.kind, entry.service, entry.amount) == ("penalty", "", Decimal("-3.50"))


# --- The ledger list ---


def test_ledger_filtered_by_account_shows_its_balance(client, accountant):
    mine, other = PersonalAccountFactory(), PersonalAccountFactory()
    for amount, penalty in (("900.00", False), ("-35.50", False), ("12.34", True)):
        services.book_adjustment(
            account_id=mine.pk,
            amount=Decimal(amount),
            reason="акт",
            user=accountant,
            service="" if penalty else Service.WATER_SUPPLY,
            penalty=penalty,
        )
    for account, amount, number in ((mine, "500.00", "П-1"), (other, "777.00", "П-2")):
        services.register_payment(
            account_id=account.pk,
            amount=Decimal(amount),
            paid_on=date(2026, 11, 19),
            source=Payment.Source.CASH_DESK,
            external_id=number,
        )
    entries = LedgerEntry.objects.filter(account=mine)
    principal = entries.filter(kind__in=["charge", "adjustment", "payment"]).aggregate(
        s=Sum("amount")
    )["s"]
    penalty = entries.filter(kind__in=["penalty", "penalty_payment"]).aggregate(s=Sum("amount"))[
        "s"
    ]
    assert (principal, penalty) == (Decimal("364.50"), Decimal("12.34"))
    assert selectors.account_balance(mine) == selectors.Balance(principal, penalty)

    filtered = client.get(reverse("admin:billing_ledgerentry_changelist"), {"q": mine.number})
    everything = client.get(reverse("admin:billing_ledgerentry_changelist"))

    assert totals(filtered.text) == "Итого по выборке: основной долг 364,50 ₽, пени 12,34 ₽."
    assert other.number not in filtered.text
    assert totals(everything.text) == "Итого по выборке: основной долг −412,50 ₽, пени 12,34 ₽."


def totals(page: str) -> str:
    return text(re.search(r'<p[^>]*id="ledger-totals"[^>]*>(.*?)</p>', page, re.S)[1])


def test_ledger_entries_can_be_neither_added_changed_nor_deleted_in_the_admin(
    client, accountant, account
):
    entry = services.register_payment(
        account_id=account.pk,
        amount=Decimal("100.00"),
        paid_on=date(2026, 11, 19),
        source=Payment.Source.CASH_DESK,
        external_id="К-1",
    ).entry
    change = reverse("admin:billing_ledgerentry_change", args=[entry.pk])
    delete = reverse("admin:billing_ledgerentry_delete", args=[entry.pk])

    page = client.get(change)
    assert page.status_code == 200  # view only: the accountant may see the row
    assert 'name="_save"' not in page.text
    assert client.post(change, {"amount": "1.00", "reason": "правка"}).status_code == 403
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    client.post(
        reverse("admin:billing_ledgerentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (Decimal("-100.00"), "Оплата от 19.11.2026, Касса")
    assert LedgerEntry.objects.count() == 1
    payment = reverse("admin:billing_payment_change", args=[entry.payment_id])
    assert client.post(payment, {"amount": "1.00"}).status_code == 403
    assert (
        client.post(
            reverse("admin:billing_payment_delete", args=[entry.payment_id]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Payment.objects.get().amount == Decimal("100.00")


# --- Billing runs ---


@pytest.mark.parametrize(
    ("step", "debtors", "done", "share"),
    [("Начисления", 0, 0, 0), ("Пени", 4, 1, 62), ("Пени", 3, 3, 100)],
)
def test_run_page_shows_the_progress_of_a_running_run(
    client, accountant, step, debtors, done, share
):
    # Charges are half the bar; penalties fill the rest by accounts: 50 + 50 x 1 / 4 -> 62.
    run = BillingRun.objects.create(
        period=services.ensure_period(NOVEMBER),
        status=BillingRun.Status.RUNNING,
        step=step,
        debtors=debtors,
        debtors_done=done,
        started_by=accountant,
    )

    page = client.get(reverse("admin:billing_billingrun_change", args=[run.pk]))

    assert page.status_code == 200
    assert (
        f'<progress max="100" value="{share}" aria-label="Ход расчёта">{share} %</progress>'
        f" {step} — {share} %"
    ) in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text  # reloads while it runs


@billing_db
def test_run_page_of_a_finished_run(client, legal_data, rates):
    client.force_login(staff_user("accountant"))
    run = bill(OCTOBER)

    page = client.get(reverse("admin:billing_billingrun_change", args=[run.pk]))

    assert page.status_code == 200
    assert "100 %" in page.text
    assert "<progress" not in page.text
    assert 'http-equiv="refresh"' not in page.text


def test_operator_may_not_see_billing_runs(client):
    run = BillingRun.objects.create(period=services.ensure_period(NOVEMBER))
    client.force_login(staff_user("operator"))
    assert client.get(reverse("admin:billing_billingrun_change", args=[run.pk])).status_code == 403


# --- The staff reconciliation act ---


def test_staff_reconciliation_act_is_a_pdf(client, accountant):
    account = PersonalAccountFactory(subscriber=LegalSubscriberFactory())
    services.register_payment(
        account_id=account.pk,
        amount=Decimal("1500.00"),
        paid_on=date(2026, 9, 15),
        source=Payment.Source.OPERATOR,
        external_id="ПП-1",
    )
    url = reverse("admin:billing_ledgerentry_reconciliation")

    page = client.get(url)
    response = client.post(
        url, {"account": account.number, "date_from": "2026-09-01", "date_to": "2026-10-31"}
    )

    assert page.status_code == 200
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="akt-sverki-20260901-20261031.pdf"'
    )
    assert response.content[:5] == b"%PDF-"


def test_staff_reconciliation_act_is_refused_for_an_individual(client, accountant, account):
    response = client.post(
        reverse("admin:billing_ledgerentry_reconciliation"),
        {"account": account.number, "date_from": "2026-09-01", "date_to": "2026-10-31"},
    )
    assert response.status_code == 200
    assert "Акт сверки составляется только для юридических лиц" in text(response.text)


def test_staff_without_ledger_access_gets_no_reconciliation_act(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:billing_ledgerentry_reconciliation")).status_code == 403
