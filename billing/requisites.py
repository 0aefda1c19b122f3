"""The utility's payment requisites (settings.UTILITY) checked as a bank checks them
(docs/formats.md §6): a Django system check refuses to start with wrong ones, and no receipt or
QR code is made with them."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from accounts.validators import (
    is_valid_bic,
    is_valid_correspondent_account,
    is_valid_inn,
    is_valid_kpp,
    is_valid_settlement_account,
)


def requisite_errors(utility: dict) -> list[str]:
    """What is wrong with the requisites, in Russian; empty when they are right."""
    errors = []
    inn, kpp = utility.get("inn", ""), utility.get("kpp", "")
    bic, account = utility.get("bank_bic", ""), utility.get("bank_account", "")
    corr = utility.get("bank_corr_account", "")
    if not (len(inn) == 10 and is_valid_inn(inn)):
        errors.append(
            f"UTILITY_INN «{inn}»: ИНН организации — 10 цифр с верным контрольным числом."
        )
    if not is_valid_kpp(kpp):
        errors.append(f"UTILITY_KPP «{kpp}»: КПП — 9 знаков (например, 231001001).")
    if not is_valid_bic(bic):
        errors.append(f"UTILITY_BANK_BIC «{bic}»: БИК — 9 цифр, начинается с 04.")
    elif not is_valid_settlement_account(account, bic):
        errors.append(
            f"UTILITY_BANK_ACCOUNT «{account}»: расчётный счёт — 20 цифр, и его контрольный "
            f"ключ с БИК {bic} не сходится: проверьте счёт и БИК."
        )
    if is_valid_bic(bic) and not is_valid_correspondent_account(corr, bic):
        errors.append(
            f"UTILITY_BANK_CORR_ACCOUNT «{corr}»: корреспондентский счёт — 20 цифр, начинается "
            f"с 301, и его контрольный ключ с БИК {bic} не сходится."
        )
    return errors


def checked(utility: dict) -> dict:
    """The requisites, or ImproperlyConfigured: nothing is printed with wrong ones."""
    errors = requisite_errors(utility)
    if errors:
        raise ImproperlyConfigured("Реквизиты Водоканала неверны: " + " ".join(errors))
    return utility


@register()
def check_requisites(app_configs, **kwargs) -> list[Error]:  # type: ignore[no-untyped-def]
    from django.conf import settings

    return [
        Error(message, id=f"billing.E{number:03d}")
        for number, message in enumerate(requisite_errors(settings.UTILITY), start=1)
    ]
