"""Staff pages in Russian: every field has a Russian name, money is grouped as elsewhere in
the portal, a list's count reads as Russian, and a refusal is a Russian page."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from billing import services
from billing.models import BillingRun
from tests.factories import UserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_every_field_of_the_portal_has_a_russian_name():
    english = [
        f"{model.__name__}.{field.name}"
        for app in ("accounts", "meters", "billing", "debtors")
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        for field in model._meta.get_fields()
        if getattr(field, "verbose_name", None) is not None
        and field.name != "id"
        and not re.search("[а-яА-ЯёЁ№]", str(field.verbose_name))
        and str(field.verbose_name) != "e-mail"
    ]
    assert english == []


def test_money_is_grouped_and_the_count_is_russian_in_the_admin(client, staff_groups):
    period = services.ensure_period(date(2025, 3, 1))
    BillingRun.objects.create(period=period, status="done", charged=Decimal("1219744.38"))
    client.force_login(staff_user("accountant"))

    page = client.get(reverse("admin:billing_billingrun_changelist")).text

    assert "1\xa0219\xa0744,38" in page
    assert "1219744,38" not in page
    assert "Расчёты начислений, всего: 1" in page
    periods = client.get(reverse("admin:billing_period_changelist")).text
    assert "закрыл" in periods.lower()
    assert "closed by" not in periods.lower()


def test_a_refusal_is_a_russian_page(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:index"))  # a subscriber in the staff area
    assert response.status_code == 302
    staff = UserFactory(is_staff=True)  # staff without any permission
    client.force_login(staff)
    response = client.get(reverse("admin:billing_billingrun_changelist"))
    assert response.status_code == 403
    assert "Доступ запрещён" in response.text
    assert "Forbidden" not in response.text
