"""submit_readings, the batch behind every channel: each rule of docs/architecture.md §5 through the batch, the
same outcomes and rows as submitting the readings one by one, and a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from meters.models import Meter, MeterReading
from meters.services import NewReading, ReadingResult, submit_reading, submit_readings
from tests.factories import MeterFactory, UserFactory

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
IN_WINDOW = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
CABINET = MeterReading.Channel.CABINET
OPERATOR = MeterReading.Channel.OPERATOR
BANK = MeterReading.Channel.BANK_REGISTRY
REPLACEMENT = MeterReading.Channel.METER_REPLACEMENT


@dataclass(frozen=True)
class Case:
    """Readings of one channel for meters "a" (and "b"), and what each must get: "accepted",
    "same" (already accepted this month) or the code of its refusal."""

    channel: str
    readings: tuple[tuple[str, str, date | None, bool], ...]  # see reading()
    expected: tuple[str, ...]
    meters: dict[str, dict] = field(default_factory=lambda: {"a": {}, "b": {}})
    # Accepted before the batch through submit_reading, by an operator: (meter, value, taken_on).
    earlier: tuple[tuple[str, str, date], ...] = ()
    now: datetime = IN_WINDOW


def reading(meter: str, value: str, taken_on: date | None = None, confirmed: bool = False):
    return (meter, value, taken_on, confirmed)


CASES = {
    "a new value": Case(CABINET, (reading("a", "110"),), ("accepted",)),
    "the same value twice in the batch": Case(
        CABINET, (reading("a", "110"), reading("a", "110.000")), ("accepted", "same")
    ),
    "the value already accepted this month": Case(
        CABINET, (reading("a", "110"),), ("same",), earlier=(("a", "110", date(2026, 11, 16)),)
    ),
    "a new value supersedes the stored one": Case(
        CABINET, (reading("a", "115"),), ("accepted",), earlier=(("a", "120", date(2026, 11, 16)),)
    ),
    "values superseding each other in the batch": Case(
        CABINET,
        (reading("a", "120"), reading("a", "115"), reading("a", "120"), reading("a", "120")),
        ("accepted", "accepted", "accepted", "same"),
        earlier=(("a", "112", date(2026, 11, 16)),),
    ),
    "two meters interleaved": Case(
        CABINET,
        (
            reading("a", "110"),
            reading("b", "210"),
            reading("a", "110"),
            reading("b", "220"),
            reading("a", "111"),
        ),
        ("accepted", "accepted", "same", "accepted", "accepted"),
    ),
    "rollover after last month's reading": Case(
        CABINET,
        (reading("a", "3"),),
        ("accepted",),
        meters={"a": {"initial_reading": Decimal("99990.000")}},
        earlier=(("a", "99998", date(2026, 10, 20)),),
    ),
    "rollover within the batch": Case(
        OPERATOR,
        (reading("a", "99998", date(2026, 10, 20)), reading("a", "3", date(2026, 11, 20))),
        ("accepted", "accepted"),
        meters={"a": {"initial_reading": Decimal("99990.000")}},
    ),
    "less than the previous reading": Case(
        CABINET,
        (reading("a", "149.999"), reading("a", "151")),
        ("less_than_previous", "accepted"),
        earlier=(("a", "150", date(2026, 10, 20)),),
    ),
    "too large for the digits": Case(
        CABINET, (reading("a", "100000"), reading("b", "110")), ("value_too_large", "accepted")
    ),
    "a broken meter": Case(
        CABINET,
        (reading("a", "110"), reading("b", "110")),
        ("meter_broken", "accepted"),
        meters={"a": {"state": Meter.State.BROKEN}, "b": {}},
    ),
    "a removed meter": Case(
        CABINET,
        (reading("a", "110"),),
        ("meter_removed",),
        meters={"a": {"state": Meter.State.REMOVED}},
    ),
    "verification expired": Case(
        CABINET,
        (reading("a", "110"),),
        ("verification_expired",),
        meters={"a": {"verification_due": date(2026, 11, 1)}},
    ),
    "the final reading of a broken meter at replacement": Case(
        REPLACEMENT,
        (reading("a", "110", date(2026, 11, 18)),),
        ("accepted",),
        meters={"a": {"state": Meter.State.BROKEN}},
    ),
    "the window is closed": Case(
        CABINET,
        (reading("a", "110"),),
        ("window_closed",),
        now=datetime(2026, 11, 27, 10, tzinfo=MSK),
    ),
    "a bank's payment date outside the window": Case(
        BANK,
        (reading("a", "110", date(2026, 11, 14)), reading("a", "111", date(2026, 11, 18))),
        ("window_closed", "accepted"),
    ),
    "a date in the future": Case(
        OPERATOR,
        (reading("a", "110", date(2026, 11, 21)), reading("a", "110", date(2026, 11, 20))),
        ("future_date", "accepted"),
    ),
    "a date before installation": Case(
        OPERATOR,
        (reading("a", "110", date(2026, 11, 5)), reading("a", "110", date(2026, 11, 12))),
        ("before_installation", "accepted"),
        meters={"a": {"installed_on": date(2026, 11, 10)}},
    ),
    "the cabinet cannot backdate": Case(
        CABINET, (reading("a", "110", date(2026, 11, 1)),), ("accepted",)
    ),
    "implausible on the cabinet: confirmation, then flagged": Case(
        CABINET,
        (reading("a", "610"), reading("a", "610", confirmed=True)),
        ("needs_confirmation", "accepted"),
        meters={"a": {"account__residents": 1}},
        earlier=(("a", "110", date(2026, 10, 20)),),
    ),
    "implausible from a bank: flagged": Case(
        BANK,
        (reading("a", "2000", date(2026, 11, 18)),),
        ("accepted",),
        meters={"a": {"account__residents": 1}},
    ),
    "not a number": Case(
        CABINET, (reading("a", "-1"), reading("a", "110")), ("invalid_value", "accepted")
    ),
    "several months of one meter": Case(
        OPERATOR,
        (
            reading("a", "110", date(2026, 9, 10)),
            reading("a", "120", date(2026, 10, 10)),
            reading("a", "130", date(2026, 11, 10)),
            reading("a", "125", date(2026, 10, 12)),
            reading("a", "105", date(2026, 8, 10)),
        ),
        ("accepted", "accepted", "accepted", "accepted", "accepted"),
    ),
}


def submit_one_by_one(case: Case, meters: dict[str, Meter], user) -> list:
    outcomes: list = []
    for key, value, taken_on, confirmed in case.readings:
        try:
            outcomes.append(
                submit_reading(
                    meter_id=meters[key].pk,
                    value=Decimal(value),
                    channel=case.channel,
                    taken_on=taken_on,
                    confirmed=confirmed,
                    submitted_by=user,
                )
            )
        except ValidationError as error:
            outcomes.append(error)
    return outcomes


def submit_as_batch(case: Case, meters: dict[str, Meter], user) -> list:
    return submit_readings(
        readings=[
            NewReading(meters[key].pk, Decimal(value), taken_on, confirmed)
            for key, value, taken_on, confirmed in case.readings
        ],
        channel=case.channel,
        submitted_by=user,
    )


def row(reading: MeterReading, ranks: dict[int, int]) -> tuple:
    """A reading without its primary key (ranked instead: the two runs number rows apart)."""
    return (
        ranks[reading.pk],
        reading.meter_id,
        reading.value,
        reading.taken_on,
        reading.period,
        reading.channel,
        reading.status,
        reading.consumption,
        reading.rolled_over,
        reading.needs_review,
        reading.reason_code,
        reading.reason,
        reading.submitted_by_id,
        reading.import_batch_id,
        reading.submitted_at,
    )


def described(outcome: ReadingResult | ValidationError, ranks: dict[int, int]) -> tuple:
    if isinstance(outcome, ValidationError):
        return ("refused", outcome.code, outcome.messages)
    return (
        outcome.created,
        row(outcome.reading, ranks),
        row(outcome.superseded, ranks) if outcome.superseded else None,
        outcome.message,
    )


def kind(outcome: ReadingResult | ValidationError) -> str:
    if isinstance(outcome, ValidationError):
        return str(outcome.code)
    return "accepted" if outcome.created else "same"


def run_and_roll_back(submit, case: Case, meters: dict[str, Meter], user) -> tuple:
    """What `submit` returns and leaves in the tables, then undone for the other run."""
    with transaction.atomic():
        outcomes = submit(case, meters, user)
        ranks = {
            pk: rank
            for rank, pk in enumerate(
                MeterReading.objects.order_by("pk").values_list("pk", flat=True)
            )
        }
        readings = [row(reading, ranks) for reading in MeterReading.objects.order_by("pk")]
        history = sorted(
            (
                ranks[item.id],
                item.history_id,
                item.history_type,
                item.history_date,
                item.history_user_id,
                item.history_change_reason,
                item.status,
                item.reason_code,
                item.reason,
                item.value,
                item.consumption,
                item.needs_review,
            )
            for item in MeterReading.history.all()
        )
        # Each reading's history in its order; history ids themselves differ between runs.
        history = [(rank, *rest) for rank, _, *rest in history]
        result = ([kind(outcome) for outcome in outcomes], [described(o, ranks) for o in outcomes])
        transaction.set_rollback(True)
    return result, readings, history


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_batch_gets_the_outcomes_and_rows_of_submitting_one_by_one(case):
    user = UserFactory()
    meters = {key: MeterFactory(**fields) for key, fields in case.meters.items()}
    with time_machine.travel(IN_WINDOW, tick=False):
        for key, value, taken_on in case.earlier:
            submit_reading(
                meter_id=meters[key].pk, value=Decimal(value), channel=OPERATOR, taken_on=taken_on
            )
    with time_machine.travel(case.now, tick=False):
        one_by_one = run_and_roll_back(submit_one_by_one, case, meters, user)
        batch = run_and_roll_back(submit_as_batch, case, meters, user)

    (kinds, outcomes), readings, history = batch
    assert kinds == list(case.expected)
    assert outcomes == one_by_one[0][1]
    assert readings == one_by_one[1]
    assert history == one_by_one[2]


def test_a_baseline_dated_after_the_new_reading_refuses_it_in_a_batch_too():
    """Legacy data: last month's reading dated later than the new one."""
    meter = MeterFactory()
    MeterReading.objects.create(
        meter=meter,
        value=Decimal("150"),
        taken_on=date(2026, 11, 19),
        period=date(2026, 10, 1),
        channel=OPERATOR,
    )
    with time_machine.travel(IN_WINDOW, tick=False):
        (outcome,) = submit_readings(
            readings=[NewReading(meter.pk, Decimal("160"), date(2026, 11, 18))], channel=OPERATOR
        )
        with pytest.raises(ValidationError) as single:
            submit_reading(
                meter_id=meter.pk,
                value=Decimal("160"),
                channel=OPERATOR,
                taken_on=date(2026, 11, 18),
            )
    assert isinstance(outcome, ValidationError)
    assert outcome.code == single.value.code == "earlier_than_previous"
    assert outcome.messages == single.value.messages


def test_a_batch_stores_the_rows_its_results_describe():
    meter = MeterFactory()
    with time_machine.travel(IN_WINDOW, tick=False):
        first, second, third = submit_readings(
            readings=[NewReading(meter.pk, Decimal(value)) for value in ("120", "115", "115")],
            channel=CABINET,
        )
    assert isinstance(first, ReadingResult)
    assert isinstance(second, ReadingResult)
    assert isinstance(third, ReadingResult)
    assert second.superseded.pk == first.reading.pk
    assert third.reading.pk == second.reading.pk
    assert first.reading.status == MeterReading.Status.ACCEPTED  # as it was when handed out
    statuses = dict(MeterReading.objects.values_list("value", "status"))
    assert statuses == {Decimal("120.000"): "superseded", Decimal("115.000"): "accepted"}
    history = list(
        MeterReading.history.filter(id=first.reading.pk)
        .order_by("history_id")
        .values_list("history_type", "status")
    )
    assert history == [("+", "accepted"), ("~", "superseded")]


def test_an_unknown_meter_is_a_bug_of_the_caller_in_a_batch_as_alone():
    meter = MeterFactory()
    with time_machine.travel(IN_WINDOW, tick=False):
        with pytest.raises(Meter.DoesNotExist):
            submit_readings(
                readings=[NewReading(meter.pk, Decimal("110")), NewReading(0, Decimal("110"))],
                channel=CABINET,
            )
        with pytest.raises(Meter.DoesNotExist):
            submit_reading(meter_id=0, value=Decimal("110"), channel=CABINET)
    assert not MeterReading.objects.exists()


def test_an_empty_batch_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert submit_readings(readings=[], channel=CABINET) == []
    assert all("SAVEPOINT" in query["sql"] for query in queries)


def batch_queries(count: int) -> list[str]:
    """The queries of a batch for `count` meters: for each, a value superseding the stored
    one, a second superseding that, the same again, and one refused."""
    meters = MeterFactory.create_batch(count)
    with time_machine.travel(IN_WINDOW, tick=False):
        submit_readings(
            readings=[NewReading(meter.pk, Decimal("110")) for meter in meters], channel=CABINET
        )
        readings = []
        for meter in meters:
            readings += [
                NewReading(meter.pk, Decimal("115")),
                NewReading(meter.pk, Decimal("116")),
                NewReading(meter.pk, Decimal("116")),
                NewReading(meter.pk, Decimal("100000")),
            ]
        with CaptureQueriesContext(connection) as queries:
            outcomes = submit_readings(readings=readings, channel=CABINET)
    assert [kind(outcome) for outcome in outcomes] == [
        "accepted",
        "accepted",
        "same",
        "value_too_large",
    ] * count
    return [query["sql"] for query in queries]


def test_the_queries_of_a_batch_do_not_grow_with_its_readings():
    few = batch_queries(2)
    many = batch_queries(40)
    # Savepoint, lock, readings, update and its history, insert and its two histories, release.
    assert len(many) == len(few) <= 9
    lock = next(sql for sql in many if "FOR UPDATE" in sql)
    assert 'ORDER BY "meters_meter"."id" ASC' in lock  # primary-key order: no deadlock
    assert 'FOR UPDATE OF "meters_meter"' in lock
