"""Each money-changing action has its own permission, checked in the service: every staff group
against every action. And a correction is bounded: never more than what it corrects, never
more than the limit, always with its reason and author."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from billing import permissions, services
from billing.models import LedgerEntry, PaymentAgent, UnidentifiedPayment
from billing.payments.registries.services import import_registry, resolve_unidentified
from tests.debtors.conftest import charge
from tests.factories import PersonalAccountFactory, UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups", "payment_agents")]

MOSCOW = ZoneInfo("Europe/Moscow")
MARCH = date(2025, 3, 1)

# Who may do what: the accountant everything here, the lawyer only penalty corrections.
ALLOWED = {
    "operator": set(),
    "lawyer": {"penalty_correction"},
    "accountant": {
        "book_payment", "charge_correction", "penalty_correction", "run_billing", "close_period",
        "import_registry", "resolve_unidentified",
    },
}  # fmt: skip


@pytest.fixture
def account():
    account = PersonalAccountFactory(opened_on=date(2020, 1, 1))
    charge(account, MARCH, "1000.00")
    LedgerEntry.objects.create(
        account=account, period=services.ensure_period(MARCH), kind="penalty",
        amount=Decimal("100.00"), for_month=MARCH, booked_on=date(2025, 3, 31),
    )  # fmt: skip
    return account


def act(action: str, user, account):
    """Try one money-changing action as `user`."""
    with time_machine.travel(datetime(2025, 4, 27, 12, tzinfo=MOSCOW), tick=False):
        if action == "book_payment":
            return services.enter_payment(
                user=user, account_id=account.pk, amount=Decimal("10.00"),
                paid_on=date(2025, 4, 20), source="cash_desk", external_id=f"p-{user.pk}",
            )  # fmt: skip
        if action in ("charge_correction", "penalty_correction"):
            penalty = action == "penalty_correction"
            return services.book_adjustment(
                account_id=account.pk, amount=Decimal("-10.00"), reason="акт № 1", user=user,
                service="" if penalty else "water_supply", for_month=MARCH, penalty=penalty,
            )  # fmt: skip
        if action == "run_billing":
            return services.create_billing_run(month=MARCH, user=user)
        if action == "close_period":
            return services.close_period(period_id=services.ensure_period(MARCH).pk, user=user)
        if action == "import_registry":
            agent = PaymentAgent.objects.get(code="sberbank")
            return import_registry(
                agent=agent, data=b"not a registry", file_name="x.txt", user=user
            )
        if action == "resolve_unidentified":
            return resolve_unidentified(unidentified_id=0, account_id=account.pk, user=user)
    raise AssertionError(action)


# What an allowed action meets here after its permission check: March is not billed, the
# registry is not one, the unidentified payment does not exist.
AFTER_THE_CHECK = {
    "close_period": (ValidationError, "нет завершённого расчёта"),
    "import_registry": (ValidationError, None),  # what is wrong with the file: any message
    "resolve_unidentified": (UnidentifiedPayment.DoesNotExist, None),
}


@pytest.mark.parametrize("group", list(ALLOWED))
@pytest.mark.parametrize("action", sorted(ALLOWED["accountant"]))
def test_every_group_against_every_money_changing_action(group, action, account):
    user = staff_user(group)
    rows = LedgerEntry.objects.count()
    if action in ALLOWED[group]:
        if action in AFTER_THE_CHECK:  # allowed: stopped only by the data after the check
            error, message = AFTER_THE_CHECK[action]
            with pytest.raises(error, match=message):
                act(action, user, account)
        else:
            act(action, user, account)
        assert permissions.may(user, action)
    else:
        with pytest.raises(PermissionDenied, match="Нет права"):
            act(action, user, account)
        assert LedgerEntry.objects.count() == rows


def test_a_lawyer_is_offered_penalty_corrections_only(client, account):
    client.force_login(staff_user("lawyer"))
    page = client.get(reverse("admin:billing_ledgerentry_adjust")).text
    assert "Пени (списание" in page
    assert "Начисление: холодное водоснабжение" not in page
    client.force_login(staff_user("operator"))
    assert client.get(reverse("admin:billing_ledgerentry_adjust")).status_code == 403


@pytest.mark.parametrize(
    ("penalty", "amount", "allowed"),
    [
        (False, "-99999999999.99", False),  # the review's attack
        (False, "-1000.01", False),  # more than March's water charge
        (False, "-1000.00", True),
        (True, "-100.01", False),  # more than the penalties owed
        (True, "-100.00", True),
        (False, "50000.01", False),  # above BILLING_CORRECTION_LIMIT
        (False, "50000.00", True),
    ],
)
def test_a_correction_is_bounded_by_what_it_corrects_and_the_limit(
    account, penalty, amount, allowed
):
    user = staff_user("accountant")
    rows = LedgerEntry.objects.count()

    def book():
        return services.book_adjustment(
            account_id=account.pk, amount=Decimal(amount), reason="акт № 2", user=user,
            service="" if penalty else "water_supply", for_month=MARCH, penalty=penalty,
        )  # fmt: skip

    if allowed:
        entry = book()
        assert (entry.created_by, entry.reason) == (user, "акт № 2")
    else:
        with pytest.raises(ValidationError, match="больше допустимой"):
            book()
        assert LedgerEntry.objects.count() == rows


def test_staff_with_no_group_has_no_money_right():
    with pytest.raises(PermissionDenied):
        permissions.require(UserFactory(is_staff=True), "charge_correction")
