"""Billing test helpers: tariffs and norms as plain numbers, readings through submit_reading,
and the billing run as the worker runs it (durable transactions: tests that bill use
`django_db(transaction=True)` and the `legal_data` fixture of tests/conftest.py)."""

from datetime import date
from decimal import Decimal

import pytest

WATER = Decimal("50.00")  # roubles per m3, population
SEWAGE = Decimal("40.00")
NORM_COLD = Decimal("3.500")  # m3 a month per resident
NORM_HOT = Decimal("2.600")


@pytest.fixture
def rates(db):
    """Tariffs for both categories from 2020 on, and the norms."""
    make_tariffs()
    make_norms()


def make_tariffs(
    *,
    water: Decimal = WATER,
    sewage: Decimal = SEWAGE,
    category: str = "population",
    valid_from: date = date(2020, 1, 1),
    valid_to: date | None = None,
) -> None:
    from billing.models import Service, Tariff

    for service, price in ((Service.WATER_SUPPLY, water), (Service.SEWAGE, sewage)):
        Tariff.objects.create(
            service=service,
            category=category,
            price=price,
            valid_from=valid_from,
            valid_to=valid_to,
        )
    if category == "population" and valid_to is None and valid_from == date(2020, 1, 1):
        make_tariffs(water=water + 5, sewage=sewage + 5, category="other", valid_from=valid_from)


def make_norms(*, cold: Decimal = NORM_COLD, hot: Decimal = NORM_HOT) -> None:
    from billing.models import Norm

    Norm.objects.create(kind="cold", volume=cold, valid_from=date(2017, 1, 1))
    Norm.objects.create(kind="hot", volume=hot, valid_from=date(2017, 1, 1))


def read(meter, value: str, taken_on: date):
    """A reading entered by staff on its real date (no window for operators)."""
    from meters.services import submit_reading

    return submit_reading(
        meter_id=meter.pk,
        value=Decimal(value),
        channel="operator",
        taken_on=taken_on,
        confirmed=True,
    )


def bill(month: date):
    """Run billing for a month as the Celery task does; returns the finished run."""
    from billing import services
    from billing.models import BillingRun

    period = services.ensure_period(month)
    run = BillingRun.objects.create(period=period)
    return services.run_billing(run_id=run.pk)


def close(month: date) -> None:
    from billing import services
    from billing.models import Period

    services.close_period(period_id=Period.objects.get(month=month).pk)


def bill_and_close(*months: date) -> None:
    for month in months:
        bill(month)
        close(month)


def charge(account, month: date, service: str = "water_supply"):
    """The charge entry of a month and service."""
    from billing.models import LedgerEntry

    return LedgerEntry.objects.get(
        account=account, period__month=month, kind="charge", service=service
    )


def ledger_rows(account=None) -> list[tuple]:
    """The ledger as comparable tuples (no ids, runs or timestamps)."""
    from billing.models import LedgerEntry

    entries = LedgerEntry.objects.all() if account is None else account.ledger.all()
    return sorted(
        entries.values_list(
            "account__number",
            "period__month",
            "kind",
            "service",
            "amount",
            "volume",
            "basis",
            "tariff",
            "for_month",
            "booked_on",
            "reason",
            "reading_id",
            "payment_id",
        ),
        key=repr,
    )
