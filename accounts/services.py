"""Writes of the accounts app: registration, e-mail confirmation, linking accounts."""

import logging

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import AccountLink, PersonalAccount, User
from accounts.phones import normalise_phone
from accounts.validators import luhn_check_digit, validate_account_number
from vodokanal import clock

logger = logging.getLogger(__name__)

EMAIL_CONFIRMATION_SALT = "accounts.email-confirmation"
LINK_ATTEMPTS_LIMIT = 10  # wrong codes per user per hour before linking is paused
LINK_ATTEMPTS_WINDOW_SECONDS = 3600


@transaction.atomic
def register_user(*, email: str, password: str, full_name: str = "", phone: str = "") -> User:
    """Create an inactive user and send the e-mail confirmation link (after commit)."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            "Пользователь с таким e-mail уже зарегистрирован. Войдите или восстановите пароль.",
            code="email_taken",
        )
    normalised_phone = normalise_phone(phone) if phone else ""
    if phone and not normalised_phone:
        raise ValidationError(
            "Укажите российский номер телефона, например +7 918 123-45-67.", code="invalid_phone"
        )
    if normalised_phone and User.objects.filter(phone=normalised_phone).exists():
        raise ValidationError(
            "Этот номер телефона уже указан другим пользователем.", code="phone_taken"
        )
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name.strip(),
        phone=normalised_phone,
        is_active=False,
    )
    transaction.on_commit(lambda: send_confirmation_email(user=user))
    return user


def confirmation_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=EMAIL_CONFIRMATION_SALT)


def send_confirmation_email(*, user: User) -> None:
    """Send the link that activates the account; the token is signed and expires."""
    link = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:confirm-email", args=[confirmation_token(user)]
    )
    context = {"user": user, "link": link, "days": settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS}
    send_mail(
        subject="Подтверждение регистрации в личном кабинете",
        message=render_to_string("accounts/email/confirm_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    logger.info("confirmation e-mail sent to user %s", user.pk)


@transaction.atomic
def confirm_email(*, token: str) -> User:
    """Activate the user named by a valid, unexpired token. A second use is harmless."""
    max_age = settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRMATION_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ValidationError(
            "Срок действия ссылки истёк. Зарегистрируйтесь ещё раз или обратитесь в поддержку.",
            code="token_expired",
        ) from error
    except signing.BadSignature as error:
        raise ValidationError("Ссылка подтверждения неверна.", code="token_invalid") from error
    user = User.objects.select_for_update().filter(pk=data["user"], email=data["email"]).first()
    if user is None:
        raise ValidationError("Ссылка подтверждения неверна.", code="token_invalid")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
        user.is_active = True
        user.save(update_fields=["email_confirmed_at", "is_active"])
    return user


def _attempts_key(user: User) -> str:
    return f"account-link-attempts:{user.pk}"


@transaction.atomic
def link_account(*, user: User, number: str, code: str) -> AccountLink:
    """Let `user` see the account whose number and receipt code they know.

    Wrong codes are counted per user; after LINK_ATTEMPTS_LIMIT in an hour linking is
    paused, so codes cannot be guessed. The same account twice returns the same link."""
    number = number.strip()
    code = code.strip().upper().replace(" ", "")
    if cache.get(_attempts_key(user), 0) >= LINK_ATTEMPTS_LIMIT:
        raise ValidationError(
            "Слишком много неверных попыток. Попробуйте через час или обратитесь в абонентский отдел.",
            code="too_many_attempts",
        )
    validate_account_number(number)
    account = PersonalAccount.objects.filter(number=number).first()
    if account is None or account.link_code != code:
        cache.add(_attempts_key(user), 0, LINK_ATTEMPTS_WINDOW_SECONDS)
        cache.incr(_attempts_key(user))
        raise ValidationError(
            "Лицевой счёт с таким номером и кодом не найден. Код напечатан в квитанции.",
            code="account_not_found",
        )
    if not account.is_open:
        raise ValidationError(
            "Этот лицевой счёт закрыт. Обратитесь в абонентский отдел.", code="account_closed"
        )
    link, _ = AccountLink.objects.get_or_create(user=user, account=account)
    if link.confirmed_at is None:
        link.confirmed_at = clock.now()
        link.save(update_fields=["confirmed_at"])
    return link


@transaction.atomic
def unlink_account(*, user: User, account: PersonalAccount) -> None:
    """Remove the account from the user's cabinet (the account itself stays)."""
    AccountLink.objects.filter(user=user, account=account).delete()


def allocate_account_number() -> str:
    """Next account number: prefix, a 7-digit serial from a database sequence, and a Luhn
    check digit. The sequence makes concurrent allocations safe."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('accounts_account_number_seq')")
        (serial,) = cursor.fetchone()
    return account_number_for(serial)


def account_number_for(serial: int) -> str:
    """The account number for a given serial (used by demo data and tests)."""
    payload = f"{settings.ACCOUNT_NUMBER_PREFIX}{serial:07d}"
    return payload + str(luhn_check_digit(payload))
