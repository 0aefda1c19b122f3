"""Beat tasks of payment intake (the online payments' own: billing/payments/online/tasks.py)."""

from celery import shared_task
from django.db import OperationalError

from billing.payments import accruals


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def issue_monthly_accrual_registries() -> None:
    """Beat: after the month's receipts, the payment agents' accrual registries."""
    accruals.build_scheduled_accrual_registries()
