"""Celery wrapper of the published lists (docs/architecture.md §9): one service call."""

from celery import shared_task
from django.db import OperationalError

from debtors import lists
from vodokanal.common import clock


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def publish_monthly_lists() -> None:
    """Beat, monthly on LISTS_PUBLISH_DAY (after the day's debt-case update): the snapshot
    of the debtor and good-payer lists as of today. Safe to run twice: the day's snapshot
    is made once."""
    lists.publish_lists(on=clock.today())
