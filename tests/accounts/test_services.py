from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import AccountLink, User
from accounts.validators import is_valid_account_number
from tests.factories import PersonalAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def register(**overrides):
    data = {
        "email": "New.User@Example.ru",
        "password": "Kran-Voda-2025",
        "full_name": "Новиков Олег",
    }
    return services.register_user(**{**data, **overrides})


def test_registration_creates_an_inactive_user_and_mails_the_link_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user = register()
    assert len(callbacks) == 1
    assert user.email == "new.user@example.ru"
    assert not user.is_active
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.user@example.ru"]
    assert "/register/confirm/" in mail.outbox[0].body


def test_registration_refuses_a_taken_email_in_any_case():
    UserFactory(email="taken@example.ru")
    with pytest.raises(ValidationError) as caught:
        register(email="TAKEN@example.ru")
    assert caught.value.code == "email_taken"
    assert User.objects.count() == 1


def test_registration_normalises_the_phone_and_refuses_a_bad_one():
    user = register(phone="8 (918) 123-45-67")
    assert user.phone == "+79181234567"
    with pytest.raises(ValidationError) as caught:
        register(email="other@example.ru", phone="12345")
    assert caught.value.code == "invalid_phone"


def test_confirmation_activates_the_user_once():
    user = register()
    token = services.confirmation_token(user)
    confirmed = services.confirm_email(token=token)
    assert confirmed.is_active
    first_time = confirmed.email_confirmed_at
    again = services.confirm_email(token=token)
    assert again.email_confirmed_at == first_time


def test_an_expired_confirmation_link_is_refused():
    user = register()
    token = services.confirmation_token(user)
    with (
        time_machine.travel(timezone.now() + timedelta(days=4)),
        pytest.raises(ValidationError) as caught,
    ):
        services.confirm_email(token=token)
    assert caught.value.code == "token_expired"
    user.refresh_from_db()
    assert not user.is_active


def test_a_tampered_confirmation_link_is_refused():
    user = register()
    with pytest.raises(ValidationError) as caught:
        services.confirm_email(token=services.confirmation_token(user) + "x")
    assert caught.value.code == "token_invalid"


def test_linking_with_the_right_code_lets_the_user_see_the_account(user):
    account = PersonalAccountFactory()
    link = services.link_account(user=user, number=account.number, code=account.link_code.lower())
    assert link.confirmed_at is not None
    again = services.link_account(user=user, number=account.number, code=account.link_code)
    assert again.pk == link.pk


def test_linking_with_a_wrong_code_links_nothing(user):
    account = PersonalAccountFactory()
    with pytest.raises(ValidationError) as caught:
        services.link_account(user=user, number=account.number, code="WRONG123")
    assert caught.value.code == "account_not_found"
    assert not AccountLink.objects.exists()


def test_a_mistyped_account_number_is_caught_by_its_check_digit(user):
    account = PersonalAccountFactory()
    typo = account.number[:-1] + str((int(account.number[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as caught:
        services.link_account(user=user, number=typo, code=account.link_code)
    assert caught.value.code == "invalid_account_number"


def test_guessing_codes_is_stopped_after_the_limit(user):
    account = PersonalAccountFactory()
    for _ in range(services.LINK_ATTEMPTS_LIMIT):
        with pytest.raises(ValidationError):
            services.link_account(user=user, number=account.number, code="WRONG123")
    with pytest.raises(ValidationError) as caught:
        services.link_account(user=user, number=account.number, code=account.link_code)
    assert caught.value.code == "too_many_attempts"
    assert not AccountLink.objects.exists()


def test_a_closed_account_cannot_be_linked(user):
    account = PersonalAccountFactory(closed_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        services.link_account(user=user, number=account.number, code=account.link_code)
    assert caught.value.code == "account_closed"


def test_allocated_account_numbers_are_valid_and_distinct():
    numbers = {services.allocate_account_number() for _ in range(50)}
    assert len(numbers) == 50
    assert all(is_valid_account_number(n) for n in numbers)
