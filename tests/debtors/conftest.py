"""Debt-collection test helpers: debts written as a billing run leaves them."""

from datetime import date
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _no_render(monkeypatch):
    """Documents are queued for a worker; here the queue is a list (rendering has its own
    tests with a real worker)."""
    from debtors import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.render_document, "delay_on_commit", queued.append)
    return queued


def charge(account, month: date, amount: str) -> None:
    """A month's charge in an open period, booked on its last day."""
    from billing import services
    from billing.models import LedgerEntry
    from vodokanal.common.months import month_end

    LedgerEntry.objects.create(
        account=account,
        period=services.ensure_period(month),
        kind="charge",
        service="water_supply",
        amount=Decimal(amount),
        for_month=month,
        booked_on=month_end(month),
    )


def pay(account, amount: str, on: date, operation: str) -> None:
    from billing import services

    services.register_payment(
        account_id=account.pk,
        amount=Decimal(amount),
        paid_on=on,
        source="cash_desk",
        external_id=operation,
    )


@pytest.fixture
def rates(db):
    """Tariffs 50 + 40 ₽/m3 (population), norms 3.5 and 2.6 m3: a month at the norm for two
    residents without hot water is 3.5 x 2 x (50 + 40) = 630.00."""
    from tests.billing.conftest import make_norms, make_tariffs

    make_tariffs()
    make_norms()
