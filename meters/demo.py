"""Demo meters and a year of readings for the demo city (docs/architecture.md §5). Idempotent: once meters
exist, nothing is added. Readings are written in bulk with the consumption the
rules would compute, because the demo needs a past year that no window would accept today."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.models import PersonalAccount, Subscriber
from meters.models import Meter, MeterReading
from vodokanal.common.months import add_months, month_start

# Summer watering and showers raise consumption in the south; winter lowers it.
SEASON = [
    Decimal(x)
    for x in (
        "0.90",
        "0.88",
        "0.92",
        "0.97",
        "1.05",
        "1.20",
        "1.30",
        "1.28",
        "1.10",
        "1.00",
        "0.94",
        "0.92",
    )
]
CHANNELS = (
    [MeterReading.Channel.CABINET] * 5
    + [MeterReading.Channel.PHONE] * 2
    + [MeterReading.Channel.BANK_REGISTRY] * 3
)


def _serial(rng: random.Random, index: int) -> str:
    return f"{rng.choice(['СВ', 'ВСКМ', 'ETW', 'MTK'])}-{100000 + index * 7 + rng.randint(0, 6)}"


def _meter(
    rng: random.Random,
    account: PersonalAccount,
    kind: str,
    today: date,
    index: int,
    digits: int = 5,
) -> Meter:
    installed = today - timedelta(days=rng.randint(500, 2000))
    roll = rng.random()
    if roll < 0.06:
        due = today - timedelta(days=rng.randint(20, 200))  # verification expired
    elif roll < 0.10:
        due = today + timedelta(days=rng.randint(3, 28))  # expires soon: the cabinet warns
    else:
        due = today + timedelta(days=rng.randint(60, 1500))
    return Meter(
        account=account,
        serial=_serial(rng, index),
        kind=kind,
        digits=digits,
        installed_on=installed,
        sealed_on=installed,
        verification_due=due,
        initial_reading=Decimal(rng.randint(0, 900)).quantize(Decimal("0.001")),
    )


@transaction.atomic
def seed_demo_meters(*, today: date) -> int:
    """Create meters and the readings of the 12 months before `today`'s and of its own month up to
    `today`, once; a rerun finds meters and does nothing."""
    if Meter.objects.exists():
        return 0
    rng = random.Random(354)  # noqa: S311 - demo data
    accounts = PersonalAccount.objects.select_related("subscriber").order_by("number")
    meters: list[Meter] = []
    for account in accounts:
        individual = account.subscriber.kind == Subscriber.Kind.INDIVIDUAL
        if individual and rng.random() < 0.08:
            continue  # no meter: billed by the norm
        if individual:
            meters.append(_meter(rng, account, Meter.Kind.COLD, today, len(meters)))
            if rng.random() < 0.3:
                meters.append(_meter(rng, account, Meter.Kind.COLD, today, len(meters)))
            if rng.random() < 0.5:
                meters.append(_meter(rng, account, Meter.Kind.HOT, today, len(meters)))
        else:
            meters.append(_meter(rng, account, Meter.Kind.COLD, today, len(meters), digits=6))
    Meter.objects.bulk_create(meters)

    readings = []
    this_month = month_start(today)
    for meter in meters:
        residents = meter.account.residents or rng.randint(8, 60)  # organisations: staff/visitors
        per_month = Decimal("3.4" if meter.kind == Meter.Kind.COLD else "2.1") * residents
        value = meter.initial_reading
        lazy = rng.random() < 0.12  # stopped passing readings some months ago
        for offset in range(12, -1, -1):
            month = add_months(this_month, -offset)
            taken_on = month.replace(day=rng.randint(15, 25))
            if (
                taken_on <= meter.installed_on
                or taken_on > today
                or taken_on > meter.verification_due
            ):
                continue
            if lazy and offset < 3:
                break
            consumption = (
                per_month * SEASON[month.month - 1] * Decimal(rng.uniform(0.8, 1.2))
            ).quantize(Decimal("0.001"))
            value += consumption
            readings.append(
                MeterReading(
                    meter=meter,
                    value=value,
                    taken_on=taken_on,
                    period=month,
                    consumption=consumption,
                    channel=rng.choice(CHANNELS),
                    status=MeterReading.Status.ACCEPTED,
                )
            )
    MeterReading.objects.bulk_create(readings)
    return len(meters)
