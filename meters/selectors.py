"""Reads of meters and readings: windows, last readings, history, monthly consumption."""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery, Sum

from accounts.models import PersonalAccount
from meters.models import Meter, MeterReading
from vodokanal.common import clock
from vodokanal.common.months import add_months, month_start


def reading_window_is_open(on: date | None = None) -> bool:
    """Readings are accepted from READING_WINDOW_DAYS[0] to [1] of the month, inclusive."""
    on = on or clock.today()
    first_day, last_day = settings.READING_WINDOW_DAYS
    return first_day <= on.day <= last_day


def reading_window(on: date | None = None) -> tuple[date, date]:
    """The current window if it is open on `on`, else the next one."""
    on = on or clock.today()
    first_day, last_day = settings.READING_WINDOW_DAYS
    month = on if on.day <= last_day else add_months(month_start(on), 1)
    last = min(last_day, calendar.monthrange(month.year, month.month)[1])
    return month.replace(day=first_day), month.replace(day=last)


# The newest reading first: by month, then the day taken, then the moment submitted.
LATEST_FIRST = ("-period", "-taken_on", "-submitted_at")


def last_accepted_reading(
    meter: Meter, *, before_period: date | None = None
) -> MeterReading | None:
    readings = meter.readings.filter(status=MeterReading.Status.ACCEPTED)
    if before_period is not None:
        readings = readings.filter(period__lt=before_period)
    return readings.order_by(*LATEST_FIRST).first()


def month_and_previous_readings(
    months: Iterable[tuple[int, date]],
) -> dict[int, dict[date, MeterReading]]:
    """For each (meter id, month): the meter's accepted reading of that month, if any, and its
    last accepted reading before the month (what `last_accepted_reading` gives), in one query
    however many meters. Returned by meter id, then by the month of each reading.

    A meter has at most one accepted reading a month (constraint
    reading_one_accepted_per_month), so the newest two up to the month (LATEST_FIRST) are the
    month's and the one before it, or, if the month has none, the one before and an older one
    that the caller never needs. The partial unique index serves each lookup."""
    pairs = sorted(set(months))
    if not pairs:
        return {}
    readings = MeterReading.objects.raw(
        """
        SELECT r.* FROM unnest(%s::bigint[], %s::date[]) AS k(meter_id, period)
        CROSS JOIN LATERAL (
            SELECT * FROM meters_meterreading r
            WHERE r.meter_id = k.meter_id AND r.status = %s AND r.period <= k.period
            ORDER BY r.period DESC, r.taken_on DESC, r.submitted_at DESC
            LIMIT 2
        ) r
        """,
        [
            [meter_id for meter_id, _ in pairs],
            [month for _, month in pairs],
            MeterReading.Status.ACCEPTED.value,
        ],
    )
    found: dict[int, dict[date, MeterReading]] = {}
    for reading in readings:
        found.setdefault(reading.meter_id, {})[reading.period] = reading
    return found


@dataclass(frozen=True)
class MeterCard:
    """What the cabinet shows about one meter."""

    meter: Meter
    state: str
    last_reading: MeterReading | None
    verification_warning: str  # "" | "soon" | "expired"

    @property
    def takes_readings(self) -> bool:
        return self.state == Meter.State.WORKING


def meter_cards(account: PersonalAccount, *, on: date | None = None) -> list[MeterCard]:
    """Installed meters of the account with their last accepted reading, in two queries
    (only the last reading of each meter is read, however long its history)."""
    on = on or clock.today()
    latest = (
        MeterReading.objects.filter(meter=OuterRef("pk"), status=MeterReading.Status.ACCEPTED)
        .order_by(*LATEST_FIRST)
        .values("pk")[:1]
    )
    meters = list(
        account.meters.exclude(state=Meter.State.REMOVED)
        .order_by("kind", "serial")
        .annotate(last_reading_id=Subquery(latest))
    )
    last_readings = MeterReading.objects.in_bulk(
        [meter.last_reading_id for meter in meters if meter.last_reading_id]
    )
    warning_from = on + timedelta(days=settings.METER_VERIFICATION_WARNING_DAYS)
    cards = []
    for meter in meters:
        if meter.verification_due < on:
            warning = "expired"
        elif meter.verification_due <= warning_from:
            warning = "soon"
        else:
            warning = ""
        last = last_readings.get(meter.last_reading_id)
        cards.append(MeterCard(meter, meter.state_on(on), last, warning))
    return cards


def reading_history(account: PersonalAccount) -> QuerySet[MeterReading]:
    return (
        MeterReading.objects.filter(meter__account=account)
        .select_related("meter")
        .order_by("-taken_on", "-submitted_at")
    )


@dataclass(frozen=True)
class MonthConsumption:
    month: date
    cold: Decimal
    hot: Decimal

    @property
    def total(self) -> Decimal:
        return self.cold + self.hot


def monthly_consumption(
    account: PersonalAccount, *, months: int = 12, on: date | None = None
) -> list[MonthConsumption]:
    """Consumption by month from accepted readings, the last `months` months, oldest first."""
    on = on or clock.today()
    last_month = month_start(on)
    first_month = add_months(last_month, -(months - 1))
    rows = (
        MeterReading.objects.filter(
            meter__account=account,
            status=MeterReading.Status.ACCEPTED,
            period__gte=first_month,
            period__lte=last_month,
        )
        .values("period", "meter__kind")
        .annotate(volume=Sum("consumption"))
    )
    volumes = {(row["period"], row["meter__kind"]): row["volume"] for row in rows}
    zero = Decimal("0.000")
    return [
        MonthConsumption(
            month=month,
            cold=volumes.get((month, Meter.Kind.COLD), zero),
            hot=volumes.get((month, Meter.Kind.HOT), zero),
        )
        for month in (add_months(first_month, i) for i in range(months))
    ]


def readings_needing_review() -> QuerySet[MeterReading]:
    return MeterReading.objects.filter(
        needs_review=True, status=MeterReading.Status.ACCEPTED
    ).select_related("meter__account")
