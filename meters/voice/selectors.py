"""Reads of the phone line: the statistics staff see in the admin (docs/phone-line.md §7)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from meters.models import PhoneCall


@dataclass(frozen=True)
class CallStats:
    day: date | None  # None for the total of the period
    calls: int
    completed: int  # the dialog ran to its goodbye
    readings: int  # readings stored
    retries: int  # questions asked again: silence, not understood, "нет", a refused value
    transfers: int  # calls handed to an operator
    hung_up: int
    failed: int


_OUTCOME = PhoneCall.Outcome


def call_statistics(*, first: date, last: date) -> tuple[list[CallStats], CallStats]:
    """Calls to the phone line by day (Moscow calendar), `first` to `last` inclusive, newest
    first, and the totals. One query; days without calls are left out."""
    zone = timezone.get_current_timezone()
    since = datetime.combine(first, time.min, tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    rows = (
        PhoneCall.objects.filter(started_at__gte=since, started_at__lt=until)
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .values("day")
        .annotate(
            calls=Count("pk"),
            completed=Count("pk", filter=Q(outcome=_OUTCOME.COMPLETED)),
            readings=Coalesce(Sum("readings_stored"), 0),
            retries=Coalesce(Sum("retries"), 0),
            transfers=Count("pk", filter=Q(outcome=_OUTCOME.TRANSFERRED)),
            hung_up=Count("pk", filter=Q(outcome=_OUTCOME.HUNG_UP)),
            failed=Count("pk", filter=Q(outcome=_OUTCOME.FAILED)),
        )
        .order_by("-day")
    )
    days = [CallStats(**row) for row in rows]
    total = CallStats(
        day=None,
        calls=sum(d.calls for d in days),
        completed=sum(d.completed for d in days),
        readings=sum(d.readings for d in days),
        retries=sum(d.retries for d in days),
        transfers=sum(d.transfers for d in days),
        hung_up=sum(d.hung_up for d in days),
        failed=sum(d.failed for d in days),
    )
    return days, total
