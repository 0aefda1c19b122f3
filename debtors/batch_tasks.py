"""Celery tasks of debt documents in batches and their e-mail: ids in, one call each.

Kept apart from debtors/tasks.py only so that two engineers could work at once; the lead
may move them there (the task names would change with the module: update the beat entry).
"""

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from debtors import batches, documents


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_document_batch(batch_id: int) -> None:
    """Render a batch's documents and its print file for the mail house."""
    batches.render_batch(batch_id=batch_id)


@shared_task(
    autoretry_for=(OperationalError, SMTPException, OSError), retry_backoff=True, max_retries=5
)
def email_document(document_id: int) -> None:
    """E-mail a rendered document to the subscriber once (emailed_at)."""
    documents.email_document(document_id=document_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def issue_monthly_notices() -> None:
    """Beat, monthly: this month's notices of debt, in batches (safe to rerun)."""
    batches.issue_scheduled_notices()
