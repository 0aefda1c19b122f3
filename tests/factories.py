"""Factories for master data only (users, subscribers, accounts). Money and readings are
created through the real services, so tests cannot build states the application could not."""

import datetime
import decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import AccountLink, PersonalAccount, Subscriber, User
from accounts.services import account_number_for

PASSWORD = "Vodokanal-test-1"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.ru")
    full_name = factory.Sequence(lambda n: f"Абонент Тестовый {n}")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(PASSWORD)


class SubscriberFactory(DjangoModelFactory):
    class Meta:
        model = Subscriber

    kind = Subscriber.Kind.INDIVIDUAL
    name = factory.Sequence(lambda n: f"Иванов Иван Иванович {n}")


class LegalSubscriberFactory(SubscriberFactory):
    kind = Subscriber.Kind.LEGAL
    name = "ООО «Ромашка»"
    inn = "7707083893"
    kpp = "770701001"
    ogrn = "1027700132195"
    legal_address = "г. Краснодар, ул. Одесская, д. 8"
    contract_number = "ЮЛ-0042"


class PersonalAccountFactory(DjangoModelFactory):
    class Meta:
        model = PersonalAccount

    number = factory.Sequence(lambda n: account_number_for(500000 + n))
    subscriber = factory.SubFactory(SubscriberFactory)
    address = factory.Sequence(
        lambda n: f"г. Краснодар, ул. Северная, д. {n % 200 + 1}, кв. {n % 90 + 1}"
    )
    residents = 2


def link(user: User, account: PersonalAccount) -> AccountLink:
    """A confirmed link, as accounts.services.link_account leaves it."""
    return AccountLink.objects.create(user=user, account=account, confirmed_at=timezone.now())


class MeterFactory(DjangoModelFactory):
    class Meta:
        model = "meters.Meter"

    account = factory.SubFactory(PersonalAccountFactory)
    serial = factory.Sequence(lambda n: f"СВ-{700000 + n}")
    kind = "cold"
    digits = 5
    installed_on = datetime.date(2024, 1, 10)
    verification_due = datetime.date(2030, 1, 10)
    initial_reading = decimal.Decimal("100.000")


# Data migrations that grant the staff groups their permissions, in order.
STAFF_GROUP_MIGRATIONS = [
    ("accounts.migrations.0002_staff_groups", "create_groups"),
    ("meters.migrations.0002_staff_permissions", "grant"),
    ("billing.migrations.0003_staff_permissions", "grant"),
    ("billing.migrations.0005_agents_and_channels", "grant"),
    ("debtors.migrations.0002_fee_scales_and_permissions", "grant"),
    ("meters.migrations.0004_phone_call_permissions", "grant"),
    ("debtors.migrations.0004_bulk_permissions", "grant"),
    ("billing.migrations.0013_correction_permissions", "grant"),
]


def staff_group(name: str):
    """The staff group as the data migrations made it. Transactional tests (live server, real
    workers) flush the database, which also removes migrated rows; this puts them back by
    running the migrations' own functions, so tests check exactly what the migrations grant."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=name, permissions__isnull=False).exists():
        for module, function in STAFF_GROUP_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)
    return Group.objects.get(name=name)


def staff_user(group: str, **fields) -> User:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(staff_group(group))
    return user
