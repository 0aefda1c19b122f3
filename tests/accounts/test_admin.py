import re

import pytest
from django.urls import reverse

from accounts.models import Subscriber
from accounts.validators import is_valid_account_number
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, UserFactory, staff_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    user = UserFactory(is_staff=True)
    user.groups.add(staff_group("operator"))
    return user


def test_staff_groups_exist_with_least_privilege():
    operator = set(staff_group("operator").permissions.values_list("codename", flat=True))
    accountant = set(staff_group("accountant").permissions.values_list("codename", flat=True))
    lawyer = set(staff_group("lawyer").permissions.values_list("codename", flat=True))
    assert {"add_personalaccount", "change_personalaccount"} <= operator
    assert "delete_personalaccount" not in operator
    assert "delete_subscriber" not in operator | accountant | lawyer
    assert "change_personalaccount" not in accountant | lawyer
    assert "view_personalaccount" in accountant & lawyer
    assert not any(code.endswith("_user") and code != "view_user" for code in operator)


@pytest.mark.parametrize("query", ["number", "inn", "address"])
def test_operator_finds_accounts_by_number_inn_and_address(client, operator, query):
    target = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(), address="г. Краснодар, ул. Зиповская, д. 5"
    )
    other = PersonalAccountFactory(address="г. Краснодар, ул. Красная, д. 1")
    term = {"number": target.number, "inn": "7707083893", "address": "зиповская"}[query]
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_personalaccount_changelist"), {"q": term}).text
    assert target.number in page
    assert other.number not in page


def test_operator_finds_subscribers_by_name(client, operator):
    LegalSubscriberFactory(name="ООО «Ромашка»")
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_subscriber_changelist"), {"q": "ромашка"}).text
    assert "Ромашка" in page


def test_operator_cannot_delete_accounts(client, operator, account):
    client.force_login(operator)
    response = client.get(reverse("admin:accounts_personalaccount_delete", args=[account.pk]))
    assert response.status_code == 403


def test_operator_change_is_recorded_with_its_author(client, operator, account):
    client.force_login(operator)
    url = reverse("admin:accounts_personalaccount_change", args=[account.pk])
    form = {
        "number": account.number,
        "subscriber": account.subscriber.pk,
        "address": account.address,
        "residents": 5,
        "water_supply": "on",
        "sewage": "on",
        "tariff_category": "population",
        "opened_on": account.opened_on.strftime("%d.%m.%Y"),
        "links-TOTAL_FORMS": 0,
        "links-INITIAL_FORMS": 0,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.text[:2000]
    latest = account.history.latest()
    assert latest.residents == 5
    assert latest.history_user == operator


def test_admin_refuses_a_legal_entity_with_a_bad_inn(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("admin:accounts_subscriber_add"),
        {
            "kind": "legal",
            "name": "ООО «Тест»",
            "inn": "7707083894",
            "kpp": "231001001",
            "ogrn": "1027700132195",
            "due_day": 10,
            "accounts-TOTAL_FORMS": 0,
            "accounts-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "контрольным числом" in response.text
    assert not Subscriber.objects.exists()


def test_new_account_form_proposes_a_valid_number(client, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_personalaccount_add")).text
    proposed = re.search(r'name="number" value="(\d+)"', page).group(1)
    assert is_valid_account_number(proposed)
