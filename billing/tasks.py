"""Thin Celery wrappers around billing services: ids in, one service call."""

import logging
from contextlib import suppress

from celery import shared_task
from django.core.exceptions import ValidationError
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
