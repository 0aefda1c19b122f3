from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count

from accounts.models import PersonalAccount
from meters.models import Meter, MeterReading

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups", "legal_data")]


def test_demo_meters_cover_the_cases_and_a_year_of_readings():
    with time_machine.travel(
        datetime(2026, 11, 24, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        call_command("seed_demo", individuals=120)
        meters = Meter.objects.count()
        readings = MeterReading.objects.count()
        assert Meter.objects.filter(kind=Meter.Kind.HOT).exists()
        assert any(
            m.state_on(date(2026, 11, 24)) == "verification_expired" for m in Meter.objects.all()
        )
        assert PersonalAccount.objects.filter(meters__isnull=True).exists()  # billed by the norm
        months = MeterReading.objects.values("meter").annotate(n=Count("period", distinct=True))
        assert max(row["n"] for row in months) >= 12
        # Seasonal: July is above January across the city.
        july = sum(r.consumption for r in MeterReading.objects.filter(period__month=7))
        january = sum(r.consumption for r in MeterReading.objects.filter(period__month=1))
        assert july > january
        call_command("seed_demo", individuals=120)
        assert (Meter.objects.count(), MeterReading.objects.count()) == (meters, readings)
