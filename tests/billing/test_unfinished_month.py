"""An unfinished month is never billed as if it were over: a run for a month is refused before
its billing day through every entry point (admin, task, command, beat), penalties never run
past the day of calculation, and a month has receipts only once its run is complete."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from billing import selectors, services, tasks
from billing.models import BillingRun, LedgerEntry, Period, Receipt
from tests.billing.conftest import bill, read
from tests.factories import MeterFactory, PersonalAccountFactory, UserFactory, link, staff_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("legal_data", "rates", "staff_groups"),
]

MOSCOW = ZoneInfo("Europe/Moscow")
SEPTEMBER, DECEMBER = date(2026, 9, 1), date(2026, 12, 1)
REFUSAL = "Расчёт начислений за 12.2026 можно запустить с 26.12.2026"


def at(day: date, hour: int = 10):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW), tick=False
    )


@pytest.fixture
def debtor():
    """A flat billed for September 2026 and never paid: overdue from 11.10.2026."""
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    meter = MeterFactory(account=account, installed_on=date(2024, 1, 10))
    with at(date(2026, 9, 26)):
        read(meter, "130.000", date(2026, 9, 20))
        bill(SEPTEMBER)
    return account


def booked() -> list[tuple]:
    return sorted(LedgerEntry.objects.values_list("kind", "booked_on", "amount", "period__month"))


def test_a_month_is_billed_from_the_day_after_its_reading_window(settings):
    assert settings.READING_WINDOW_DAYS[1] < settings.BILLING_RUN_DAY == 26
    assert selectors.first_billing_day(DECEMBER) == date(2026, 12, 26)
    assert selectors.first_billing_day(date(2028, 2, 29)) == date(2028, 2, 26)


def test_no_entry_point_bills_december_on_the_5th(client, debtor, monkeypatch):
    before = booked()
    queued = []
    monkeypatch.setattr(tasks.run_billing, "delay_on_commit", queued.append)
    with at(date(2026, 12, 5)):
        # The accountant's action in the admin.
        client.force_login(staff_user("accountant"))
        period = services.ensure_period(DECEMBER)
        response = client.post(
            reverse("admin:billing_period_changelist"),
            {"action": "run_billing", "_selected_action": [period.pk]},
        )
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            f"{REFUSAL}: до этого дня принимаются показания за месяц."
        ]
        # The command, for this month and for one not begun.
        with pytest.raises(CommandError, match=re.escape(REFUSAL)):
            call_command("run_billing", "--month", "2026-12")
        with pytest.raises(
            CommandError, match=re.escape("за 03.2027 можно запустить с 26.03.2027")
        ):
            call_command("run_billing", "--month", "2027-03")
        # The beat's monthly job, on a wrongly set day, queues nothing.
        tasks.start_monthly_billing()
        # A run queued by mistake (or left from before) fails on the worker with the reason.
        stray = BillingRun.objects.create(period=period)
        tasks.run_billing(stray.pk)

    stray.refresh_from_db()
    assert (stray.status, stray.error.startswith(REFUSAL)) == ("failed", True)
    assert queued == []
    assert list(
        BillingRun.objects.exclude(pk=stray.pk).values_list("period__month", flat=True)
    ) == [SEPTEMBER]
    assert booked() == before
    assert not Period.objects.filter(month=date(2027, 3, 1)).exists()


def test_penalties_run_to_the_day_of_calculation_never_past_it(debtor):
    with at(date(2026, 12, 26), hour=1):  # the beat's hour on the billing day
        tasks.start_monthly_billing()
        run = BillingRun.objects.get(period__month=DECEMBER)
        services.run_billing(run_id=run.pk)
        expected = selectors.penalty_breakdown(debtor, as_of=date(2026, 12, 26)).total

    run.refresh_from_db()
    penalty = LedgerEntry.objects.get(kind="penalty", period__month=DECEMBER)
    assert run.status == "done"
    assert expected > 0
    assert (penalty.amount, penalty.booked_on) == (expected, date(2026, 12, 26))
    assert penalty.reason.startswith("Пени по 26.12.2026")
    later = selectors.penalty_breakdown(debtor, as_of=date(2026, 12, 31)).total
    assert later > expected  # five more days would have been charged by the month's end


def test_a_month_after_its_end_has_penalties_to_its_last_day(debtor):
    with at(date(2027, 1, 3)):
        run = services.create_billing_run(month=DECEMBER)
        services.run_billing(run_id=run.pk)
        expected = selectors.penalty_breakdown(debtor, as_of=date(2026, 12, 31)).total

    penalty = LedgerEntry.objects.get(kind="penalty", period__month=DECEMBER)
    assert (penalty.amount, penalty.booked_on) == (expected, date(2026, 12, 31))


def test_receipts_exist_only_for_months_whose_run_is_complete(client, debtor, monkeypatch):
    monkeypatch.setattr(tasks.render_receipt_batch, "delay_on_commit", lambda batch_id: None)
    user = UserFactory()
    link(user, debtor)
    december_pdf = reverse("billing:receipt-pdf", args=[debtor.number, 2026, 12])

    with at(date(2026, 12, 26)):
        client.force_login(user)
        run = services.create_billing_run(month=DECEMBER)
        services.book_charges(run_id=run.pk)  # charges booked, penalties not yet
        assert client.get(december_pdf).status_code == 404
        assert "12.2026" not in _receipt_months(client, debtor)
        with pytest.raises(ValidationError, match="после расчёта начислений"):
            services.issue_receipts(period_id=run.period_id)

        services.run_billing(run_id=run.pk)
        assert client.get(december_pdf).status_code == 200
        assert "12.2026" in _receipt_months(client, debtor)
        assert services.issue_receipts(period_id=run.period_id) == 0  # rendered on request
        assert Receipt.objects.filter(period__month=DECEMBER).count() == 1

        rerun = services.create_billing_run(month=DECEMBER)  # queued again: not complete
        assert client.get(december_pdf).status_code == 404
        services.run_billing(run_id=rerun.pk)
        assert client.get(december_pdf).status_code == 200


def _receipt_months(client, account) -> list[str]:
    page = client.get(reverse("billing:receipts", args=[account.number])).text
    return [
        f"{month:%m.%Y}"
        for month in (date(2026, 9, 1), date(2026, 12, 1))
        if reverse("billing:receipt-pdf", args=[account.number, month.year, month.month]) in page
    ]


def test_the_run_date_is_stored_and_a_late_worker_keeps_it(debtor):
    """A run queued on the 26th and picked up after midnight calculates on the 26th."""
    with at(date(2026, 12, 26), hour=23):
        run = services.create_billing_run(month=DECEMBER)
    with at(date(2026, 12, 27), hour=0):
        services.run_billing(run_id=run.pk)
    penalty = LedgerEntry.objects.get(kind="penalty", period__month=DECEMBER)
    assert (run.calculated_on, penalty.booked_on) == (date(2026, 12, 26), date(2026, 12, 26))
    assert Decimal(penalty.amount) > 0
