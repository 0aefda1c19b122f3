"""The portal's one clock: every "today" and "now" of services, selectors, demo data, beat and
templates comes from here, never from `date.today()`, `timezone.now()` or PostgreSQL's `now()`.

In development and tests (`DEBUG` or pytest) the environment setting `VODOKANAL_TODAY=YYYY-MM-DD`
sets the calendar day of every process of a run (web, worker, beat) alike; the time of day
still runs. Production refuses to start with it (vodokanal/settings.py).
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    """The current moment, aware; on the fixed day when VODOKANAL_TODAY is set."""
    moment = timezone.now()
    fixed: date | None = settings.VODOKANAL_TODAY
    if fixed is None:
        return moment
    local = timezone.localtime(moment)
    return local.replace(year=fixed.year, month=fixed.month, day=fixed.day)


def today() -> date:
    """The business date: the calendar day in Moscow (TIME_ZONE)."""
    return timezone.localdate(now())
