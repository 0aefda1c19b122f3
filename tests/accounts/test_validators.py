import pytest
from django.core.exceptions import ValidationError

from accounts.services import account_number_for
from accounts.validators import (
    is_valid_account_number,
    is_valid_inn,
    is_valid_kpp,
    is_valid_ogrn,
    validate_inn,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("7707083893", True),  # docs/formats.md §6 example, organisation
        ("500100732259", True),  # docs/formats.md §6 example, individual
        ("7707083894", False),  # last digit changed
        ("500100732258", False),
        ("500100732269", False),  # 11th digit wrong
        ("77070838", False),
        ("77070838931", False),  # 11 digits
        ("77070838a3", False),
        ("７７０７０８３８９３", False),  # full-width digits are not ASCII
        ("", False),
    ],
)
def test_inn_check_digits(value, valid):
    assert is_valid_inn(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [("1027700132195", True), ("1027700132194", False), ("102770013219", False)],
)
def test_ogrn_check_digit(value, valid):
    assert is_valid_ogrn(value) is valid


def test_ogrnip_check_digit():
    body = "30423013660009"
    good = body + str(int(body) % 13 % 10)
    bad = body + str((int(body) % 13 % 10 + 1) % 10)
    assert is_valid_ogrn(good)
    assert not is_valid_ogrn(bad)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("231001001", True), ("7707AB001", True), ("23100100", False), ("2310ab001", False)],
)
def test_kpp_format(value, valid):
    assert is_valid_kpp(value) is valid


def test_account_numbers_carry_a_luhn_digit_that_catches_one_mistyped_digit():
    number = account_number_for(12345)
    assert len(number) == 10
    assert is_valid_account_number(number)
    for position in range(10):
        for replacement in "0123456789":
            if replacement == number[position]:
                continue
            typo = number[:position] + replacement + number[position + 1 :]
            assert not is_valid_account_number(typo)


def test_account_number_catches_swapped_neighbours():
    number = account_number_for(123456)
    swapped = number[:3] + number[4] + number[3] + number[5:]
    assert swapped == number or not is_valid_account_number(swapped)


def test_validator_message_is_russian():
    with pytest.raises(ValidationError) as caught:
        validate_inn("123")
    assert caught.value.code == "invalid_inn"
    assert "ИНН" in caught.value.messages[0]
