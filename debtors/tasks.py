"""Thin Celery wrappers around debt-collection services: ids in, one service call."""

from celery import shared_task
from django.db import OperationalError

from debtors import documents, services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_document(document_id: int) -> None:
    documents.render_document(document_id=document_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def update_debt_cases() -> None:
    """Beat, daily: open, refresh and close cases from the ledger (payments move them)."""
    services.update_cases()
