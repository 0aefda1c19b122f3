"""Every rule of submit_reading (docs/architecture.md §5), through the service that all channels call."""

import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from meters.models import Meter, MeterReading
from meters.selectors import reading_window, reading_window_is_open
from meters.services import reject_reading, submit_reading
from tests.factories import MeterFactory, UserFactory

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
IN_WINDOW = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
CABINET = MeterReading.Channel.CABINET


def submit(meter, value, channel=CABINET, **kwargs):
    return submit_reading(meter_id=meter.pk, value=Decimal(value), channel=channel, **kwargs)


def refused(meter, value, channel=CABINET, **kwargs) -> str:
    count = MeterReading.objects.count()
    with pytest.raises(ValidationError) as caught:
        submit(meter, value, channel, **kwargs)
    assert MeterReading.objects.count() == count  # a refusal writes nothing
    return caught.value.code


@pytest.fixture(autouse=True)
def _in_the_window():
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2026, 3, 25, 23, 59, tzinfo=MSK), True),
        (datetime(2026, 3, 26, 0, 1, tzinfo=MSK), False),  # still the 25th in UTC
        (datetime(2026, 3, 15, 0, 0, tzinfo=MSK), True),  # still the 14th in UTC
        (datetime(2026, 3, 14, 23, 59, tzinfo=MSK), False),
    ],
)
def test_reading_window_follows_the_moscow_calendar(moment, is_open):
    with time_machine.travel(moment, tick=False):
        assert reading_window_is_open() is is_open


def test_outside_the_window_the_subscriber_is_told_the_next_window():
    meter = MeterFactory()
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=MSK), tick=False):
        assert reading_window() == (date(2026, 12, 15), date(2026, 12, 25))
        with pytest.raises(ValidationError) as caught:
            submit(meter, "105")
    assert caught.value.code == "window_closed"
    assert "с 15.12.2026 по 25.12.2026" in caught.value.messages[0]
    assert not MeterReading.objects.exists()


def test_staff_enter_readings_at_any_time():
    meter = MeterFactory()
    with time_machine.travel(datetime(2026, 11, 3, 10, 0, tzinfo=MSK), tick=False):
        result = submit(meter, "105", MeterReading.Channel.OPERATOR)
    assert result.reading.status == MeterReading.Status.ACCEPTED
    assert result.reading.period == date(2026, 11, 1)


def test_an_accepted_reading_records_its_consumption_and_channel():
    meter = MeterFactory()
    user = UserFactory()
    result = submit(meter, "107,5".replace(",", "."), submitted_by=user)
    reading = result.reading
    assert (reading.value, reading.consumption) == (Decimal("107.500"), Decimal("7.500"))
    assert reading.channel == CABINET
    assert reading.submitted_by == user
    assert reading.taken_on == date(2026, 11, 20)
    assert "принято" in result.message


def test_a_reading_below_the_last_accepted_one_is_refused():
    meter = MeterFactory()
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=MSK)):
        submit(meter, "150")
    assert refused(meter, "149.999") == "less_than_previous"


def test_rollover_of_a_five_digit_meter():
    meter = MeterFactory(initial_reading=Decimal("99990.000"))
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=MSK)):
        submit(meter, "99998")
    result = submit(meter, "3")
    assert result.reading.consumption == Decimal("5.000")
    assert result.reading.rolled_over


def test_a_value_beyond_the_meters_digits_is_refused():
    meter = MeterFactory(digits=5)
    assert refused(meter, "100000") == "value_too_large"


def test_implausible_consumption_needs_the_subscribers_confirmation_and_is_flagged():
    meter = MeterFactory(account__residents=1)
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=MSK)):
        submit(meter, "110")
    # 31 days x 1 m3 per resident per day = 31 m3 allowed; 500 m3 is not plausible.
    assert refused(meter, "610") == "needs_confirmation"
    result = submit(meter, "610", confirmed=True)
    assert result.reading.needs_review
    assert result.reading.consumption == Decimal("500.000")


def test_implausible_reading_from_a_bank_registry_is_accepted_and_flagged_for_staff():
    meter = MeterFactory(account__residents=1)
    result = submit(meter, "2000", MeterReading.Channel.BANK_REGISTRY, taken_on=date(2026, 11, 18))
    assert result.reading.needs_review
    assert result.reading.taken_on == date(2026, 11, 18)


def test_the_daily_limit_grows_with_residents():
    meter = MeterFactory(account__residents=4, installed_on=date(2026, 10, 21))
    # 30 days x 4 residents x 1 m3 = 120 m3 allowed.
    assert submit(meter, "210").reading.needs_review is False


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"verification_due": date(2026, 11, 1)}, "verification_expired"),
        ({"state": Meter.State.BROKEN}, "meter_broken"),
        ({"state": Meter.State.REMOVED}, "meter_removed"),
        ({"state": Meter.State.VERIFICATION_EXPIRED}, "verification_expired"),
    ],
)
def test_meters_that_cannot_take_readings_say_why(fields, code):
    meter = MeterFactory(**fields)
    assert refused(meter, "110") == code


def test_the_same_value_twice_is_accepted_once():
    meter = MeterFactory()
    first = submit(meter, "110")
    again = submit(meter, "110.000")
    assert again.created is False
    assert again.reading.pk == first.reading.pk
    assert MeterReading.objects.count() == 1


def test_a_new_value_in_the_same_window_supersedes_the_earlier_one_and_both_are_kept():
    meter = MeterFactory()
    first = submit(meter, "120")
    second = submit(meter, "115")  # a correction downwards is measured from last month
    assert second.superseded.pk == first.reading.pk
    statuses = dict(MeterReading.objects.values_list("value", "status"))
    assert statuses == {Decimal("120.000"): "superseded", Decimal("115.000"): "accepted"}
    assert second.reading.consumption == Decimal("15.000")


def test_readings_in_the_future_or_before_installation_are_refused():
    meter = MeterFactory(installed_on=date(2026, 11, 10))
    assert (
        refused(meter, "110", MeterReading.Channel.OPERATOR, taken_on=date(2026, 11, 21))
        == "future_date"
    )
    assert (
        refused(meter, "110", MeterReading.Channel.OPERATOR, taken_on=date(2026, 11, 5))
        == "before_installation"
    )


def test_a_cabinet_submission_cannot_backdate_itself():
    meter = MeterFactory()
    result = submit(meter, "110", taken_on=date(2026, 11, 1))
    assert result.reading.taken_on == date(2026, 11, 20)


def test_staff_reject_a_flagged_reading_and_the_month_takes_a_new_one():
    meter = MeterFactory()
    staff = UserFactory(is_staff=True)
    reading = submit(meter, "900", confirmed=True).reading
    reject_reading(reading_id=reading.pk, reason="Ошибка абонента", by=staff)
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.REJECTED
    assert submit(meter, "110").reading.consumption == Decimal("10.000")


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_for_one_meter_cannot_both_win():
    meter = MeterFactory()
    barrier = threading.Barrier(2)
    errors = []

    def worker(value):
        try:
            barrier.wait()
            submit(meter, value)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(v,)) for v in ("111", "112")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    readings = MeterReading.objects.filter(meter=meter)
    assert readings.count() == 2
    assert readings.filter(status=MeterReading.Status.ACCEPTED).count() == 1
    assert readings.filter(status=MeterReading.Status.SUPERSEDED).count() == 1


def test_the_database_refuses_two_accepted_readings_in_one_month():
    from django.db import IntegrityError

    meter = MeterFactory()
    submit(meter, "110")
    with pytest.raises(IntegrityError):
        MeterReading.objects.create(
            meter=meter,
            value=Decimal("111"),
            taken_on=date(2026, 11, 20),
            period=date(2026, 11, 1),
            channel=CABINET,
        )
