"""The monthly billing run: volumes by readings, averages and norms (ПП 354 п. 42, 59, 60),
tariffs by days, reruns of an open month, late readings and closed months."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing import services
from billing.models import BillingRun, LedgerEntry, Period, Tariff
from meters.models import Meter
from tests.billing.conftest import (
    bill,
    bill_and_close,
    charge,
    close,
    ledger_rows,
    make_norms,
    make_tariffs,
    read,
)
from tests.factories import MeterFactory, PersonalAccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("legal_data")]

JAN, FEB, MAR, APR, MAY, JUN = (date(2025, m, 1) for m in range(1, 7))
JUL, AUG, SEP, OCT, NOV, DEC = (date(2025, m, 1) for m in range(7, 13))
JAN26 = date(2026, 1, 1)
MOSCOW = ZoneInfo("Europe/Moscow")


def monthly_readings(meter: Meter, months: list[date], step: str = "4.000", start: str = "100"):
    """One reading on the 20th of each month, `step` m3 apart."""
    value = Decimal(start)
    for month in months:
        value += Decimal(step)
        read(meter, str(value), month.replace(day=20))
    return value


@pytest.fixture
def flat():
    """Two residents, water and sewage, one cold-water meter from 2024 (initial 100 m3)."""
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    return account, MeterFactory(account=account, installed_on=date(2024, 1, 10))


@pytest.mark.usefixtures("rates")
def test_volume_by_readings_is_charged_at_the_tariff(flat):
    account, meter = flat
    read(meter, "105.000", date(2025, 3, 20))

    run = bill(MAR)

    water, sewage = charge(account, MAR), charge(account, MAR, "sewage")
    assert (water.volume, water.basis, water.amount) == (
        Decimal("5.000"),
        "readings",
        Decimal("250.00"),
    )
    assert (sewage.volume, sewage.amount) == (Decimal("5.000"), Decimal("200.00"))
    assert water.booked_on == date(2025, 3, 31)
    assert run.status == BillingRun.Status.DONE
    assert (run.accounts, run.charged) == (1, Decimal("450.00"))


@pytest.mark.usefixtures("rates")
def test_no_reading_is_billed_by_the_average_for_six_months_then_by_the_norm(flat):
    account, meter = flat
    monthly_readings(meter, [JAN, FEB, MAR, APR, MAY, JUN])  # 4 m3 a month
    services.ensure_period(JUL)  # billing starts in July: earlier readings are history

    bill_and_close(JUL, AUG, SEP, OCT, NOV, DEC, JAN26)

    # Average of January..June: (104 -> 124) over 5 months = 4 m3, six months in a row.
    for month in (JUL, AUG, SEP, OCT, NOV, DEC):
        water = charge(account, month)
        assert (water.volume, water.basis, water.amount) == (
            Decimal("4.000"),
            "average",
            Decimal("200.00"),
        ), month
    # The seventh month without readings: norm 3.5 x 2 residents.
    water = charge(account, JAN26)
    assert (water.volume, water.basis, water.amount) == (
        Decimal("7.000"),
        "norm",
        Decimal("350.00"),
    )


@pytest.mark.usefixtures("rates")
def test_short_history_goes_straight_to_the_norm(flat):
    account, meter = flat
    monthly_readings(meter, [MAY, JUN])  # less than 3 months of readings
    services.ensure_period(JUL)

    bill(JUL)

    assert (charge(account, JUL).basis, charge(account, JUL).volume) == ("norm", Decimal("7.000"))


@pytest.mark.usefixtures("rates")
def test_unverified_meter_average_three_months_then_increased_norm():
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    meter = MeterFactory(
        account=account, installed_on=date(2024, 1, 10), verification_due=date(2025, 6, 30)
    )
    monthly_readings(meter, [JAN, FEB, MAR, APR, MAY, JUN])
    services.ensure_period(JUL)

    bill_and_close(JUL, AUG, SEP, OCT)

    assert [charge(account, m).basis for m in (JUL, AUG, SEP)] == ["average"] * 3
    october = charge(account, OCT)
    # Norm 3.5 x 2 residents x 1.5 (ПП 354 п. 59, 60; docs/penalties.md §7).
    assert (october.basis, october.volume, october.amount) == (
        "norm_increased",
        Decimal("10.500"),
        Decimal("525.00"),
    )


@pytest.mark.usefixtures("rates")
def test_no_meter_norm_per_resident_and_hot_water_counts_for_sewage():
    account = PersonalAccountFactory(residents=3, hot_water=True, opened_on=date(2020, 1, 1))

    bill(MAR)

    water, sewage = charge(account, MAR), charge(account, MAR, "sewage")
    assert (water.volume, water.basis, water.amount) == (
        Decimal("10.500"),
        "norm",
        Decimal("525.00"),
    )
    # Sewage = cold 3.5 x 3 + hot 2.6 x 3 = 18.3 m3 x 40.
    assert (sewage.volume, sewage.amount) == (Decimal("18.300"), Decimal("732.00"))


@pytest.mark.usefixtures("rates")
def test_hot_water_meter_counts_for_sewage_only(flat):
    account, cold = flat
    account.hot_water = True
    account.save(update_fields=["hot_water"])
    hot = MeterFactory(account=account, kind="hot", installed_on=date(2024, 1, 10))
    read(cold, "106.000", date(2025, 3, 20))
    read(hot, "103.500", date(2025, 3, 20))

    bill(MAR)

    assert charge(account, MAR).volume == Decimal("6.000")
    assert charge(account, MAR, "sewage").volume == Decimal("9.500")
    assert charge(account, MAR, "sewage").amount == Decimal("380.00")


def test_tariff_changed_mid_month_is_charged_by_days(flat):
    make_norms()
    make_tariffs(water=Decimal("50.00"), valid_from=date(2025, 1, 1), valid_to=date(2025, 10, 15))
    make_tariffs(water=Decimal("60.00"), valid_from=date(2025, 10, 16))
    account, meter = flat
    read(meter, "110.000", date(2025, 10, 20))

    bill(OCT)

    water = charge(account, OCT)
    # (50 x 15 days + 60 x 16 days) / 31 = 55.16129... per m3; 10 m3 -> 551.6129 -> 551.61.
    assert water.amount == Decimal("551.61")
    assert water.tariff == Decimal("55.1613")


def test_missing_tariff_refuses_the_run_and_writes_nothing(flat):
    make_norms()
    make_tariffs(valid_from=date(2025, 1, 1), valid_to=date(2025, 10, 20))

    with pytest.raises(ValidationError) as error:
        bill(OCT)

    assert "тариф задан не на все дни" in error.value.messages[0]
    run = BillingRun.objects.get()
    assert run.status == BillingRun.Status.FAILED
    assert "Холодное водоснабжение" in run.error
    assert not LedgerEntry.objects.exists()


@pytest.mark.usefixtures("rates")
def test_rerun_of_an_open_month_replaces_its_charges(flat):
    account, meter = flat
    read(meter, "105.000", date(2025, 3, 18))
    bill(MAR)
    first = ledger_rows()

    bill(MAR)
    assert ledger_rows() == first  # the same ledger, not twice the charges

    read(meter, "107.000", date(2025, 3, 25))  # supersedes the month's reading
    bill(MAR)
    assert LedgerEntry.objects.filter(kind="charge", account=account).count() == 2
    assert charge(account, MAR).volume == Decimal("7.000")


@pytest.mark.usefixtures("rates")
def test_reading_after_an_average_reverses_it_in_the_next_month(flat):
    account, meter = flat
    monthly_readings(meter, [JAN, FEB, MAR, APR, MAY, JUN])  # last: 124
    services.ensure_period(JUL)
    bill_and_close(JUL)  # no July reading: 4 m3 by the average
    reading = read(meter, "133.000", date(2025, 8, 20)).reading  # 9 m3 since June

    bill(AUG)

    assert charge(account, AUG).volume == Decimal("9.000")
    adjustment = LedgerEntry.objects.get(account=account, kind="adjustment", service="water_supply")
    assert adjustment.period.month == AUG
    assert adjustment.for_month == JUL
    assert (adjustment.volume, adjustment.amount) == (Decimal("-4.000"), Decimal("-200.00"))
    assert adjustment.reading_id == reading.pk
    assert adjustment.reason == (
        "Перерасчёт за 07.2025: начисленные без показаний 4,000 м³ сняты: "
        "расход учтён по показанию от 20.08.2025"
    )
    # Water over July and August: exactly the 9 m3 measured.
    water = LedgerEntry.objects.filter(account=account, service="water_supply")
    assert sum(e.amount for e in water) == Decimal("450.00")
    # The closed July is untouched.
    assert charge(account, JUL).amount == Decimal("200.00")


@pytest.mark.usefixtures("rates")
def test_late_reading_for_a_closed_month_is_an_adjustment_in_the_open_one(flat):
    account, meter = flat
    monthly_readings(meter, [JAN, FEB, MAR, APR, MAY, JUN])  # last: 124
    services.ensure_period(JUL)
    bill_and_close(JUL)  # 4 m3 by the average
    read(meter, "130.000", date(2025, 7, 25))  # entered after July was closed: 6 m3

    bill(AUG)

    adjustment = LedgerEntry.objects.get(account=account, kind="adjustment", service="water_supply")
    assert (adjustment.for_month, adjustment.volume, adjustment.amount) == (
        JUL,
        Decimal("2.000"),
        Decimal("100.00"),
    )
    assert "6,000 м³ вместо 4,000 м³" in adjustment.reason
    # August has no reading: the average now includes July's 6 m3: (4 x 5 + 6) / 6.
    assert charge(account, AUG).basis == "average"
    assert charge(account, AUG).volume == Decimal("4.333")


@pytest.mark.usefixtures("rates")
def test_closed_month_cannot_be_changed(flat):
    account, meter = flat
    read(meter, "105.000", date(2025, 3, 20))
    bill_and_close(MAR)
    march = Period.objects.get(month=MAR)
    before = ledger_rows()

    with pytest.raises(ValidationError, match="закрыт"):
        services.start_billing_run(month=march.month)
    with pytest.raises(ValidationError, match="закрыт"):
        bill(MAR)
    # The database refuses too, whoever asks.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, period=march, kind="adjustment", service="sewage",
            amount=Decimal("1.00"), for_month=MAR, booked_on=date(2025, 3, 31),
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(period=march).update(amount=Decimal("0.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.filter(pk=march.pk).update(status=Period.Status.OPEN)
    assert ledger_rows() == before


@pytest.mark.usefixtures("rates")
def test_entries_not_made_by_a_run_are_never_deleted(flat):
    account, _ = flat
    services.register_payment(
        account_id=account.pk, amount=Decimal("10.00"), paid_on=date(2025, 3, 5),
        source="cash_desk", external_id="k-1",
    )  # fmt: skip

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(kind="payment").delete()
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


@pytest.mark.usefixtures("rates")
def test_period_closes_only_after_a_finished_run_and_in_order(flat):
    services.ensure_period(FEB)
    services.ensure_period(MAR)
    with pytest.raises(ValidationError, match="нет завершённого расчёта"):
        close(FEB)
    bill(FEB)
    bill(MAR)
    with pytest.raises(ValidationError, match="более ранние"):
        close(MAR)
    close(FEB)
    assert Period.objects.get(month=FEB).status == Period.Status.CLOSED


@pytest.mark.usefixtures("rates")
def test_earlier_month_cannot_be_rerun_after_a_later_one(flat):
    bill(FEB)
    bill(MAR)
    with pytest.raises(ValidationError, match="уже есть расчёт"):
        bill(FEB)


@pytest.mark.usefixtures("rates")
def test_manual_adjustment_lands_in_the_open_period_with_its_reason(flat, staff_groups):
    from tests.factories import staff_user

    account, meter = flat
    read(meter, "105.000", date(2025, 3, 20))
    bill_and_close(MAR)
    clerk = staff_user("accountant")

    with time_machine.travel(datetime(2025, 4, 27, 12, tzinfo=MOSCOW), tick=False):
        entry = services.book_adjustment(
            account_id=account.pk, amount=Decimal("-50.00"), service="water_supply",
            for_month=MAR, reason="Акт обследования: утечка по вине исполнителя", user=clerk,
        )  # fmt: skip

        assert entry.period.month == APR  # the open month of that day
        assert (entry.for_month, entry.created_by) == (MAR, clerk)
        bill(APR)  # a rerun of that month keeps staff corrections
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
    with pytest.raises(ValidationError, match="основание"):
        services.book_adjustment(
            account_id=account.pk, amount=Decimal("5.00"), service="sewage", reason=" ", user=clerk
        )


def test_other_consumers_pay_their_own_tariff():
    make_norms()
    make_tariffs()  # population 50/40, other consumers 55/45
    account = PersonalAccountFactory(
        tariff_category="other", residents=1, opened_on=date(2020, 1, 1)
    )
    meter = MeterFactory(account=account, installed_on=date(2024, 1, 10))
    read(meter, "102.000", date(2025, 3, 20))

    bill(MAR)

    assert charge(account, MAR).amount == Decimal("110.00")
    assert charge(account, MAR, "sewage").amount == Decimal("90.00")
    assert Tariff.objects.count() == 4


@pytest.mark.usefixtures("rates")
def test_run_billing_command_bills_a_month_and_reports(flat, capsys):
    from django.core.management import call_command

    account, meter = flat
    read(meter, "105.000", date(2025, 3, 20))

    call_command("run_billing", "--month", "2025-03")

    assert "лицевых счетов 1, начислено 450.00 ₽" in capsys.readouterr().out
    assert charge(account, MAR).amount == Decimal("250.00")


@pytest.mark.usefixtures("rates")
def test_run_billing_command_refuses_bad_and_closed_months(flat):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="ГГГГ-ММ"):
        call_command("run_billing", "--month", "март")
    bill_and_close(MAR)
    with pytest.raises(CommandError, match="закрыт"):
        call_command("run_billing", "--month", "2025-03")


@pytest.mark.usefixtures("rates")
def test_beat_starts_the_current_months_run_once(flat, monkeypatch):
    from billing import tasks

    queued = []
    monkeypatch.setattr(tasks.run_billing, "delay_on_commit", queued.append)

    with time_machine.travel(datetime(2026, 11, 26, 1, tzinfo=MOSCOW), tick=False):
        run = services.start_scheduled_billing()
        assert services.start_scheduled_billing() is None  # already queued: skipped
    assert (run.period.month, run.calculated_on) == (date(2026, 11, 1), date(2026, 11, 26))
    assert queued == [run.pk]


@pytest.mark.usefixtures("rates", "staff_groups")
def test_reading_rejected_after_billing_is_withdrawn_in_the_open_month(flat):
    from meters.services import reject_reading
    from tests.factories import staff_user

    account, meter = flat
    reading = read(meter, "105.000", date(2025, 3, 20)).reading
    bill_and_close(MAR)

    reject_reading(reading_id=reading.pk, reason="Ошибка ввода", by=staff_user("operator"))
    bill(APR)

    adjustment = LedgerEntry.objects.get(account=account, kind="adjustment", service="water_supply")
    assert (adjustment.period.month, adjustment.for_month) == (APR, MAR)
    assert (adjustment.volume, adjustment.amount) == (Decimal("-5.000"), Decimal("-250.00"))
    assert (
        adjustment.reason
        == "Перерасчёт за 03.2025: показание от 20.03.2025 отклонено, снято 5,000 м³"
    )


@pytest.mark.usefixtures("rates", "payment_agents")
def test_beat_issues_receipts_and_accrual_registries_after_the_run(flat, monkeypatch):
    from billing import tasks
    from billing.models import AccrualRegistry, PaymentAgent, Receipt
    from billing.payments import accruals

    queued = []
    monkeypatch.setattr(tasks.render_receipt_batch, "delay_on_commit", queued.append)
    month = date(2026, 11, 1)
    with time_machine.travel(datetime(2026, 11, 27, 4, tzinfo=MOSCOW), tick=False):
        assert services.issue_scheduled_receipts() == 0  # no run yet: nothing
        assert accruals.build_scheduled_accrual_registries() == 0
        bill(month)
        assert services.issue_scheduled_receipts() == 1
        assert (
            accruals.build_scheduled_accrual_registries()
            == PaymentAgent.objects.filter(is_active=True).count()
        )
    assert Receipt.objects.filter(period__month=month).count() == 1
    assert len(queued) == 1
    agents = PaymentAgent.objects.filter(is_active=True).count()
    assert AccrualRegistry.objects.filter(period__month=month).count() == agents
