"""Writes of the accounts app: registration, e-mail confirmation, linking accounts."""

import contextlib
import logging

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import AccountLink, PersonalAccount, User
from accounts.phones import normalise_phone
from accounts.validators import luhn_check_digit, validate_account_number
from vodokanal.common import clock

logger = logging.getLogger(__name__)

EMAIL_CONFIRMATION_SALT = "accounts.email-confirmation"
LINK_ATTEMPTS_LIMIT = 10  # wrong codes per user per hour before linking is paused
LINK_ATTEMPTS_WINDOW_SECONDS = 3600


@transaction.atomic
def register_user(
    *, email: str, password: str, full_name: str = "", phone: str = ""
) -> User | None:
    """Create an inactive user and e-mail the confirmation link (after commit).

    The answer never tells whether an e-mail or a phone is registered (security review): for
    a taken e-mail nothing is created and its owner gets a letter instead (how to log in or
    reset the password; an owner who never confirmed gets the link again); a phone that is
    someone else's is not saved, which only the confirmation letter says. Returns the new
    user, or None when the e-mail was taken."""
    email = email.strip().lower()
    normalised_phone = normalise_phone(phone) if phone else ""
    if phone and not normalised_phone:
        raise ValidationError(
            "Укажите российский номер телефона, например +7 918 123-45-67.", code="invalid_phone"
        )
    phone_taken = bool(normalised_phone) and User.objects.filter(phone=normalised_phone).exists()
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    full_name=full_name.strip(),
                    phone="" if phone_taken else normalised_phone,
                    is_active=False,
                )
        except IntegrityError:  # registered a moment ago by a concurrent request
            owner = User.objects.get(email__iexact=email)
    if owner is not None:
        transaction.on_commit(lambda: send_registration_attempt_email(user=owner))
        return None
    transaction.on_commit(lambda: send_confirmation_email(user=user, phone_not_saved=phone_taken))
    return user


def confirmation_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=EMAIL_CONFIRMATION_SALT)


def send_confirmation_email(*, user: User, phone_not_saved: bool = False) -> None:
    """Send the link that activates the account; the token is signed and expires."""
    context = {
        "user": user,
        "link": site_url("accounts:confirm-email", confirmation_token(user)),
        "days": settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS,
        "phone_not_saved": phone_not_saved,
    }
    _mail(user, "Подтверждение регистрации в личном кабинете", "confirm_email.txt", context)
    logger.info("confirmation e-mail sent to user %s", user.pk)


def send_registration_attempt_email(*, user: User) -> None:
    """Somebody registered with this user's e-mail: an unconfirmed user gets the confirmation
    link again, a confirmed one how to log in or reset the password."""
    if not user.is_active and user.email_confirmed_at is None:
        send_confirmation_email(user=user)
        return
    context = {"user": user, "login": site_url("login"), "reset": site_url("password_reset")}
    _mail(
        user,
        "Регистрация в личном кабинете: этот e-mail уже зарегистрирован",
        "already_registered.txt",
        context,
    )
    logger.info("registration attempt with the e-mail of user %s", user.pk)


def _mail(user: User, subject: str, template: str, context: dict) -> None:
    """A plain-text letter to the user from templates/accounts/email/."""
    message = render_to_string(f"accounts/email/{template}", context)
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[user.email])


def site_url(name: str, *args: object) -> str:
    """An absolute link to a page of the portal, on the host of SITE_URL (never the host a
    request named)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


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


def _take_attempt(user: User) -> None:
    """Count one more try to link an account, atomically (Redis INCR), before the code is
    compared: of any burst of concurrent requests only LINK_ATTEMPTS_LIMIT get a comparison."""
    key = _attempts_key(user)
    cache.add(key, 0, LINK_ATTEMPTS_WINDOW_SECONDS)  # the window starts at the first try
    if cache.incr(key) > LINK_ATTEMPTS_LIMIT:
        raise ValidationError(
            "Слишком много неверных попыток. Попробуйте через час или обратитесь в абонентский отдел.",
            code="too_many_attempts",
        )


def _give_back_attempt(user: User) -> None:
    """A try that guessed nothing (a mistyped number, the right code) is not held against
    the user."""
    with contextlib.suppress(ValueError):  # the window has just ended
        cache.decr(_attempts_key(user))


@transaction.atomic
def link_account(*, user: User, number: str, code: str) -> AccountLink:
    """Let `user` see the account whose number and receipt code they know.

    Wrong codes are counted per user; after LINK_ATTEMPTS_LIMIT in an hour linking is
    paused, so codes cannot be guessed. The same account twice returns the same link."""
    number = number.strip()
    code = code.strip().upper().replace(" ", "")
    _take_attempt(user)
    try:
        validate_account_number(number)
    except ValidationError:
        _give_back_attempt(user)
        raise
    account = PersonalAccount.objects.filter(number=number).first()
    if account is None or account.link_code != code:
        raise ValidationError(
            "Лицевой счёт с таким номером и кодом не найден. Код напечатан в квитанции.",
            code="account_not_found",
        )
    _give_back_attempt(user)
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
