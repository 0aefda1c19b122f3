"""Bad requests are refused, never a 500 (security review): a NUL byte or a number of 20 digits
in the cabinet's URLs and forms, junk in the public lists' search."""

import pytest
from django.urls import reverse

from tests.factories import PersonalAccountFactory, UserFactory, link

pytestmark = pytest.mark.django_db


@pytest.fixture
def cabinet(client):
    user = UserFactory()
    account = PersonalAccountFactory()
    link(user, account)
    client.force_login(user)
    return account


@pytest.mark.parametrize(
    "path",
    [
        "/cabinet/accounts/23%00/",
        "/cabinet/accounts/2305000008%00/finance/",
        "/cabinet/accounts/{number}/receipts/99999999999999999999-01.pdf",
        "/cabinet/accounts/{number}/receipts/2025-99999999999999999999.pdf",
        "/cabinet/accounts/{number}/receipts/2025-13.pdf",
        "/cabinet/accounts/{number}/documents/99999999999999999999999.pdf",
    ],
)
def test_junk_in_a_cabinet_url_is_a_404(client, cabinet, path):
    assert client.get(path.format(number=cabinet.number)).status_code == 404


def test_a_nul_byte_in_the_switch_form_is_a_404(client, cabinet):
    response = client.post(reverse("accounts:account-switch"), {"number": "23\x00"})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["public:debtors", "public:good-payers"])
def test_junk_in_the_public_search_is_no_error(client, name):
    response = client.get(reverse(name), {"q": "\x00" * 3 + "1" * 5000})
    assert response.status_code in (200, 400)
