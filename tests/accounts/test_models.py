import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import PersonalAccount, Subscriber
from tests.factories import PersonalAccountFactory

pytestmark = pytest.mark.django_db


def legal(**fields):
    base = {
        "kind": Subscriber.Kind.LEGAL,
        "name": "ООО «Ромашка»",
        "inn": "7707083893",
        "kpp": "770701001",
        "ogrn": "1027700132195",
    }
    return Subscriber(**{**base, **fields})


def test_valid_legal_entity_passes_full_clean():
    legal().full_clean()


@pytest.mark.parametrize(
    ("fields", "field_with_error"),
    [
        ({"inn": ""}, "inn"),
        ({"inn": "7707083894"}, "inn"),
        ({"kpp": ""}, "kpp"),
        ({"ogrn": "1027700132194"}, "ogrn"),
        ({"ogrn": ""}, "ogrn"),
        ({"kind": Subscriber.Kind.MANAGING_ORG, "kpp": "77070100"}, "kpp"),
    ],
)
def test_legal_entity_requisites_are_checked(fields, field_with_error):
    with pytest.raises(ValidationError) as caught:
        legal(**fields).full_clean()
    assert field_with_error in caught.value.message_dict


def test_entrepreneur_needs_ogrnip_with_a_12_digit_inn():
    with pytest.raises(ValidationError) as caught:
        legal(inn="500100732259", kpp="").full_clean()
    assert "ogrn" in caught.value.message_dict


def test_individual_needs_no_requisites_but_an_inn_must_be_personal():
    Subscriber(kind=Subscriber.Kind.INDIVIDUAL, name="Петров Пётр Петрович").full_clean()
    with pytest.raises(ValidationError):
        Subscriber(
            kind=Subscriber.Kind.INDIVIDUAL, name="Петров Пётр Петрович", inn="7707083893"
        ).full_clean()


def test_account_number_must_carry_its_check_digit():
    account = PersonalAccountFactory.build(number="2300012346")
    with pytest.raises(ValidationError) as caught:
        account.full_clean(exclude=["subscriber"])
    assert "number" in caught.value.message_dict


def test_an_account_without_any_service_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        PersonalAccountFactory(water_supply=False, sewage=False)


def test_each_account_gets_its_own_link_code():
    codes = {PersonalAccountFactory().link_code for _ in range(20)}
    assert len(codes) == 20
    assert all(len(code) == 8 for code in codes)


def test_changes_of_an_account_are_kept_in_history():
    account = PersonalAccountFactory(residents=2)
    account.residents = 4
    account.save(update_fields=["residents"])
    history = list(PersonalAccount.history.filter(id=account.pk).order_by("history_date"))
    assert [h.residents for h in history] == [2, 4]
