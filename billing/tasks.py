"""Thin Celery wrappers around billing services: ids in, one service call."""

import logging
from contextlib import suppress
from itertools import chain

from celery import chord, shared_task
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import OperationalError, transaction

from billing import services

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_billing(run_id: int) -> None:
    # A refusal is not retried: the run row holds the Russian reason for the accountant.
    with suppress(ValidationError):
        services.run_billing(run_id=run_id, penalties_in_tasks=True)


# --- The penalties of a run, spread over the workers (services.start_penalty_tasks) ---


def queue_penalties(run_id: int, ranges: list[tuple[int, int]]) -> None:
    """One task per range of account ids finds its debtors; when all have, their results
    go to book_penalty_debtors. A task that fails for good (after its retries) fails the
    chord, and the run is marked failed."""
    if not ranges:  # no accounts at all
        book_penalty_debtors.delay_on_commit([], run_id)
        return
    found = chord(
        [find_penalty_debtors.si(run_id, first, last) for first, last in ranges],
        book_penalty_debtors.s(run_id).on_error(fail_billing_run.si(run_id)),
    )
    transaction.on_commit(found.apply_async)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def find_penalty_debtors(run_id: int, first: int, last: int) -> list[int]:
    return services.find_penalty_debtors(run_id=run_id, accounts=(first, last))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def book_penalty_debtors(found: list[list[int]], run_id: int) -> None:
    """One task per chunk of the debtors found books their penalties; when all have,
    finish_billing_run settles the run and marks it done."""
    chunks = services.start_penalty_chunks(run_id=run_id, account_ids=list(chain(*found)))
    if not chunks:  # no debtors, or the run failed meanwhile
        finish_billing_run.delay_on_commit(run_id)
        return
    booked = chord(
        [book_penalty_chunk.si(run_id, account_ids) for account_ids in chunks],
        finish_billing_run.si(run_id).on_error(fail_billing_run.si(run_id)),
    )
    transaction.on_commit(booked.apply_async)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def book_penalty_chunk(run_id: int, account_ids: list[int]) -> None:
    # A refusal is not retried: the service marked the run failed with its reason.
    with suppress(ValidationError):
        services.book_penalty_chunk(run_id=run_id, account_ids=account_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def finish_billing_run(run_id: int) -> None:
    with suppress(ValidationError):
        services.finish_billing_run(run_id=run_id)


@shared_task
def fail_billing_run(run_id: int) -> None:
    """Errback of the run's chords: a task failed for good."""
    services.fail_billing_run(run_id=run_id)


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


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def fetch_key_rates() -> None:
    """Beat: new Bank of Russia key-rate decisions, daily."""
    call_command("fetch_key_rates")
