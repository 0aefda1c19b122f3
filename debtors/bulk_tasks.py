"""The Celery task of staff bulk actions: an id in, one call of debtors.bulk.run_bulk."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from debtors import bulk


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_bulk(job_id: int) -> None:
    """A retry continues where the last attempt stopped (see bulk.run_bulk); so does a new
    task when a long job reaches the soft time limit."""
    try:
        bulk.run_bulk(job_id=job_id)
    except SoftTimeLimitExceeded:
        run_bulk.delay(job_id)
