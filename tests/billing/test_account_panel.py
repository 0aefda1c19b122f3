"""The account page of the cabinet shows the money summary that billing adds to it."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import LedgerEntry
from tests.factories import UserFactory, link


@pytest.mark.django_db
def test_account_page_shows_debt_and_penalty_from_the_ledger(client, account):
    period = services.ensure_period(date(2025, 3, 1))
    for kind, amount in (("charge", "812.40"), ("penalty", "12.05")):
        LedgerEntry.objects.create(
            account=account, period=period, kind=kind, amount=Decimal(amount),
            service="water_supply" if kind == "charge" else "", for_month=period.month,
            booked_on=date(2025, 3, 31),
        )  # fmt: skip
    services.register_payment(
        account_id=account.pk, amount=Decimal("12.40"), paid_on=date(2025, 4, 2),
        source="cash_desk", external_id="p-1",
    )  # fmt: skip
    user = UserFactory()
    link(user, account)
    client.force_login(user)

    page = client.get(reverse("accounts:account-detail", args=[account.number])).content.decode()

    assert 'data-testid="principal">800,00\u00a0₽<' in page
    assert 'data-testid="penalty">12,05\u00a0₽<' in page
    assert reverse("billing:finance", args=[account.number]) in page
