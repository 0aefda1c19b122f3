"""Celery wrappers for online payments: ids in, one service call (billing.payments.online.services)."""

import logging

from celery import shared_task
from django.db import OperationalError

from billing.payments.online import gateways
from billing.payments.online import services as online

logger = logging.getLogger(__name__)


@shared_task
def check_pending_online_payments() -> None:
    """Beat (every few minutes): queue a confirmation for each payment still pending."""
    online.check_pending_online_payments()


@shared_task(
    autoretry_for=(gateways.GatewayUnavailableError, OperationalError),
    retry_backoff=True,
    max_retries=3,
)
def confirm_online_payment(gateway_payment_id: str) -> None:
    """Ask the gateway about one payment; book it once if it succeeded. A transient gateway
    failure is retried (and the next beat asks again); a refusal is logged, not retried."""
    try:
        online.confirm_online_payment(gateway_payment_id=gateway_payment_id)
    except gateways.GatewayUnavailableError:
        raise
    except gateways.GatewayError as error:
        logger.warning("online payment check refused by the gateway: %s", error.code)
