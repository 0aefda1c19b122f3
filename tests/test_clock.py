"""The portal's one clock (vodokanal/common/clock.py): the Moscow calendar day, and a fixed day for a
whole development or test run (VODOKANAL_TODAY) with the time of day still running."""

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from vodokanal.common import clock

MOSCOW = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
BASE_DIR = Path(__file__).resolve().parent.parent


def test_today_is_the_moscow_day_even_when_utc_is_still_yesterday():
    with time_machine.travel(datetime(2026, 12, 31, 21, 30, tzinfo=UTC), tick=False):
        assert clock.today() == date(2027, 1, 1)  # 00:30 in Moscow
        assert clock.now() == datetime(2027, 1, 1, 0, 30, tzinfo=MOSCOW)


def test_a_fixed_day_keeps_the_time_of_day(settings):
    settings.VODOKANAL_TODAY = date(2028, 2, 29)
    with time_machine.travel(datetime(2026, 12, 5, 23, 59, 30, tzinfo=MOSCOW), tick=False):
        assert clock.today() == date(2028, 2, 29)
        now = clock.now()
    assert (now.date(), now.timetz()) == (date(2028, 2, 29), time(23, 59, 30, tzinfo=MOSCOW))


def test_without_a_fixed_day_the_clock_is_the_real_one(settings):
    settings.VODOKANAL_TODAY = None
    with time_machine.travel(datetime(2026, 12, 5, 10, tzinfo=MOSCOW), tick=False):
        assert (clock.today(), clock.now()) == (
            date(2026, 12, 5),
            datetime(2026, 12, 5, 10, tzinfo=MOSCOW),
        )


def test_nothing_but_the_clock_reads_the_real_date():
    """Business code reads the clock: no date.today(), datetime.now(), timezone.now() or
    localdate() without an argument, and no now()/current_date in its SQL."""
    forbidden = (
        "date.today(",
        "datetime.now(",
        "datetime.today(",
        "timezone.now(",
        "timezone.localdate()",
        "timezone.localtime()",
        "default=timezone.now",
        "default=timezone.localdate",
        "initial=timezone.localdate",
        "now()",
        "current_date",
        "CURRENT_DATE",
    )
    offenders = []
    for app in ("accounts", "meters", "billing", "debtors", "vodokanal", "templates"):
        for path in (BASE_DIR / app).rglob("*"):
            if path.suffix not in (".py", ".html", ".txt") or "migrations" in path.parts:
                continue
            if path.name in ("clock.py", "devservices.py"):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [
                f"{path.relative_to(BASE_DIR)}: {word}"
                for word in forbidden
                if word in text.replace("clock.now()", "CLOCK").replace("app.now()", "APP")
            ]
    assert offenders == []
