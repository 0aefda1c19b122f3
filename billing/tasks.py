"""Thin Celery wrappers around billing services: ids in, one service call."""

import logging
from contextlib import suppress

from celery import shared_task
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import OperationalError

from billing import services

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_billing(run_id: int) -> None:
    # A refusal is not retried: the run row holds the Russian reason for the accountant.
    with suppress(ValidationError):
        services.run_billing(run_id=run_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_receipt_batch(batch_id: int) -> None:
    services.render_receipt_batch(batch_id=batch_id)


@shared_task
def start_monthly_billing() -> None:
    """Beat: after the reading window closes, bill the current month."""
    services.start_scheduled_billing()


@shared_task
def issue_monthly_receipts() -> None:
    """Beat: the day after the run, receipts for the current month."""
    services.issue_scheduled_receipts()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def fetch_key_rates() -> None:
    """Beat: new Bank of Russia key-rate decisions, daily."""
    call_command("fetch_key_rates")
