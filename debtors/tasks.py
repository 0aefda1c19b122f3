"""Thin Celery wrappers around debt-collection services: ids in, one service call."""

from celery import shared_task
from django.db import OperationalError

from debtors import documents


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_document(document_id: int) -> None:
    documents.render_document(document_id=document_id)
