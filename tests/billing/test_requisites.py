"""The utility's requisites are checked as a bank checks them (docs/formats.md §6): every start
(`manage.py check`) fails on a wrong one with a Russian message, no receipt or QR code is made
with them, and the phone numbers printed come from the settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from accounts.validators import is_valid_correspondent_account, is_valid_settlement_account
from billing.receipts import payee
from billing.requisites import requisite_errors

VALID = {
    "inn": "2310123454",
    "kpp": "231001001",
    "bank_bic": "040349602",
    "bank_account": "40702810630000012345",
    "bank_corr_account": "30101810100000000602",
}


def test_the_examples_of_formats_md_are_valid():
    assert is_valid_correspondent_account("30101810400000000225", "044525225")
    assert is_valid_settlement_account("40702810630000012345", "040349602")
    assert not is_valid_settlement_account("40702810000000000001", "040349602")


def test_the_default_and_sample_requisites_are_valid(settings):
    assert requisite_errors(settings.UTILITY) == []
    call_command("check")  # nothing raised


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inn", "2310000003", "UTILITY_INN «2310000003»: ИНН организации"),
        ("inn", "231012345", "UTILITY_INN"),
        ("kpp", "23100100", "UTILITY_KPP «23100100»: КПП"),
        ("bank_bic", "140349602", "UTILITY_BANK_BIC «140349602»: БИК"),
        ("bank_account", "40702810000000000001", "контрольный ключ с БИК 040349602 не сходится"),
        ("bank_account", "4070281063000001234", "UTILITY_BANK_ACCOUNT"),
        ("bank_corr_account", "30101810100000000603", "UTILITY_BANK_CORR_ACCOUNT"),
    ],
)
def test_a_wrong_requisite_stops_every_start_and_every_receipt(settings, field, value, message):
    settings.UTILITY = {**settings.UTILITY, **VALID, field: value}

    with pytest.raises(SystemCheckError, match=message):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match="Реквизиты Водоканала неверны"):
        payee()


@pytest.mark.django_db
def test_the_phone_line_on_pay_is_the_setting_receipts_print(client, payment_agents, settings):
    """The receipt prints the same setting (tests/billing/test_receipts.py)."""
    settings.UTILITY = {**settings.UTILITY, "readings_phone": "+7 (861) 299-99-99"}
    page = client.get(reverse("billing:channels")).text
    line = page[page.index("Автоматическая телефонная линия") :]
    assert "+7 (861) 299-99-99" in line[: line.index("</li>")]
    assert "2310000003" not in page  # the seeded instruction's invalid INN is gone
