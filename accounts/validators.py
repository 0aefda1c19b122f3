"""Check digits of Russian identifiers (docs/formats.md §6) and of our account numbers.

Pure predicates (`is_valid_*`) are used by the services and the phone line; the
`validate_*` wrappers raise Django's ValidationError with a Russian message and sit on
model fields, so forms and the admin share them."""

import re

from django.core.exceptions import ValidationError

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _weighted_check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid_inn(value: str) -> bool:
    """ИНН: 10 digits for organisations, 12 for individuals and entrepreneurs."""
    if not value.isdigit() or not value.isascii():
        return False
    if len(value) == 10:
        return _weighted_check(value[:9], _INN10_WEIGHTS) == int(value[9])
    if len(value) == 12:
        return _weighted_check(value[:10], _INN12_WEIGHTS_11) == int(value[10]) and (
            _weighted_check(value[:11], _INN12_WEIGHTS_12) == int(value[11])
        )
    return False


def is_valid_kpp(value: str) -> bool:
    return bool(_KPP_RE.match(value))


def is_valid_ogrn(value: str) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13)."""
    if not value.isdigit() or not value.isascii():
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def luhn_check_digit(payload: str) -> int:
    """The Luhn digit that makes `payload + digit` pass the Luhn test."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # these positions are doubled once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_account_number(value: str) -> bool:
    """Our personal account number: 10 digits, the last a Luhn check digit, so a mistyped
    number (web, phone, registry) is caught before any lookup."""
    return (
        len(value) == 10
        and value.isdigit()
        and value.isascii()
        and luhn_check_digit(value[:9]) == int(value[9])
    )


def validate_inn(value: str) -> None:
    if not is_valid_inn(value):
        raise ValidationError(
            "ИНН должен состоять из 10 или 12 цифр с верным контрольным числом.", code="invalid_inn"
        )


def validate_kpp(value: str) -> None:
    if not is_valid_kpp(value):
        raise ValidationError(
            "КПП должен состоять из 9 знаков (например, 231001001).", code="invalid_kpp"
        )


def validate_ogrn(value: str) -> None:
    if not is_valid_ogrn(value):
        raise ValidationError(
            "ОГРН (13 цифр) или ОГРНИП (15 цифр) указан с неверным контрольным числом.",
            code="invalid_ogrn",
        )


def validate_account_number(value: str) -> None:
    if not is_valid_account_number(value):
        raise ValidationError(
            "Номер лицевого счёта — 10 цифр; проверьте номер по квитанции.",
            code="invalid_account_number",
        )


_BIC_RE = re.compile(r"^04\d{7}$")
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]  # 3 digits of the BIC and the 20 of the account


def is_valid_bic(value: str) -> bool:
    """БИК: 9 digits beginning with 04."""
    return bool(_BIC_RE.match(value))


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    return sum(int(d) * w % 10 for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def is_valid_settlement_account(account: str, bic: str) -> bool:
    """A settlement account (20 digits) with its bank's BIC: the control key over the BIC's
    last 3 digits and the account (docs/formats.md §6)."""
    return (
        is_valid_bic(bic)
        and len(account) == 20
        and account.isdigit()
        and account.isascii()
        and _account_key_ok(bic[-3:], account)
    )


def is_valid_correspondent_account(account: str, bic: str) -> bool:
    """The bank's correspondent account (20 digits, 301…): the control key over "0", the
    BIC's 5th and 6th digits and the account (docs/formats.md §6)."""
    return (
        is_valid_bic(bic)
        and len(account) == 20
        and account.isdigit()
        and account.isascii()
        and account.startswith("301")
        and _account_key_ok("0" + bic[4:6], account)
    )
