import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, STAFF_LOGINS, SUBSCRIBER_LOGINS
from accounts.models import PersonalAccount, Subscriber, User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups", "legal_data")]


def test_seed_demo_builds_a_valid_city_and_is_idempotent():
    call_command("seed_demo", individuals=60)
    accounts = PersonalAccount.objects.count()
    subscribers = Subscriber.objects.count()
    users = User.objects.count()
    assert Subscriber.objects.filter(kind=Subscriber.Kind.INDIVIDUAL).count() == 60
    assert Subscriber.objects.filter(kind=Subscriber.Kind.MANAGING_ORG).count() >= 5
    assert Subscriber.objects.filter(kind=Subscriber.Kind.HOUSING_COOP).count() >= 5
    assert Subscriber.objects.filter(kind=Subscriber.Kind.LEGAL).count() >= 20
    for subscriber in Subscriber.objects.all():
        subscriber.full_clean()
    for account in PersonalAccount.objects.select_related("subscriber"):
        account.full_clean()
        assert "Краснодар" in account.address
    call_command("seed_demo", individuals=60)
    assert (PersonalAccount.objects.count(), Subscriber.objects.count(), User.objects.count()) == (
        accounts,
        subscribers,
        users,
    )


def test_demo_logins_work_and_staff_are_in_their_groups():
    call_command("seed_demo", individuals=10)
    for login in STAFF_LOGINS + SUBSCRIBER_LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_active
        if login.group:
            assert user.groups.filter(name=login.group).exists()
    two_accounts = User.objects.get(email="ivanova@example.ru")
    assert two_accounts.account_links.filter(confirmed_at__isnull=False).count() == 2
