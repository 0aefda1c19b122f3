"""Test settings knobs and shared fixtures. Tests run on real PostgreSQL and Redis started by
`make test` (vodokanal/devservices.py).

`VODOKANAL_TODAY=YYYY-MM-DD make test` runs the suite on that day (`make test-calendar` on
each day of its list): this process travels there for the whole session (time-machine), so a
test that freezes another moment wins; the subprocesses it starts read the variable through
the clock (vodokanal/common/clock.py)."""

import os
from datetime import datetime, time

import pytest
import time_machine

# The processes tests start (commands, `make run`) are test processes too: they honour
# VODOKANAL_TODAY like this one (vodokanal/settings.py).
os.environ["VODOKANAL_TESTING"] = "1"


@pytest.fixture(autouse=True, scope="session")
def _portal_day():
    from django.conf import settings
    from django.utils import timezone

    fixed = settings.VODOKANAL_TODAY
    if fixed is None:
        yield None
        return
    # Ten in the morning in Moscow: a run of the suite never crosses midnight.
    moment = datetime.combine(fixed, time(10), tzinfo=timezone.get_default_timezone())
    settings.VODOKANAL_TODAY = None  # the travel sets this process's day, not the clock
    with time_machine.travel(moment, tick=True):
        yield fixed
    settings.VODOKANAL_TODAY = fixed


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    # A private cache per test: throttling counters must not leak between tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def account(db):
    from tests.factories import PersonalAccountFactory

    return PersonalAccountFactory()


@pytest.fixture
def subscriber_user(user, account):
    """A logged-in-able subscriber with one confirmed account."""
    from tests.factories import link

    link(user, account)
    return user


@pytest.fixture
def staff_groups(db):
    """The staff groups as the data migrations made them (see tests.factories.staff_group)."""
    from tests.factories import staff_group

    return [staff_group(name) for name in ("operator", "accountant", "lawyer")]


@pytest.fixture
def legal_data(db):
    """Key rates, moratoria and the cap as billing's migration 0002 seeds them: transactional
    tests flush the database, migrated rows included (as staff_groups does for groups)."""
    import importlib

    from django.apps import apps

    module = importlib.import_module("billing.migrations.0002_guards_and_legal_data")
    module.seed_legal_data(apps, None)
    # The state-fee scales from debtors' 0002.
    module = importlib.import_module("debtors.migrations.0002_fee_scales_and_permissions")
    module.seed_fee_scales(apps, None)


@pytest.fixture
def payment_agents(db):
    """The payment agents and channels as billing's migration 0005 seeds them."""
    import importlib

    from django.apps import apps

    importlib.import_module("billing.migrations.0005_agents_and_channels").seed(apps, None)
    importlib.import_module(
        "billing.migrations.0011_phone_line_from_settings"
    ).phone_line_from_settings(apps, None)
