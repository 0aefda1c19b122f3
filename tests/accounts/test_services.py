import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import AccountLink, User
from accounts.validators import is_valid_account_number
from tests.factories import PersonalAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Send the letters a registration leaves for after its commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


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


def test_a_taken_email_creates_nothing_and_its_owner_is_told(settings, mailed):
    """Registration never reveals a registered e-mail: the caller gets no error, the owner
    gets a letter with the links to log in and to reset the password (on SITE_URL)."""
    settings.SITE_URL = "https://lk.vodokanal.example"
    owner = UserFactory(email="taken@example.ru", email_confirmed_at=timezone.now())

    with mailed():
        assert register(email="TAKEN@example.ru", password="Another-Pass-2025") is None

    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert not owner.check_password("Another-Pass-2025")
    [letter] = mail.outbox
    assert letter.to == ["taken@example.ru"]
    assert "уже зарегистрирован" in letter.subject
    assert "https://lk.vodokanal.example/login/" in letter.body
    assert "https://lk.vodokanal.example/password/reset/" in letter.body
    assert "/register/confirm/" not in letter.body


def test_an_unconfirmed_owner_gets_the_confirmation_link_again(mailed):
    first = register()

    with mailed():
        assert register() is None

    assert User.objects.get() == first
    [letter] = mail.outbox
    assert "/register/confirm/" in letter.body
    assert services.confirm_email(token=letter.body.split("/register/confirm/")[1].split("/")[0])


def test_someone_elses_phone_is_not_saved_and_only_the_letter_says_so(mailed):
    UserFactory(phone="+79181234567")

    with mailed():
        user = register(phone="8 918 123-45-67")

    assert user is not None
    assert user.phone == ""
    [letter] = mail.outbox
    assert "уже есть в профиле другого пользователя" in letter.body


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


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_codes_gets_no_more_comparisons_than_the_limit():
    """40 concurrent requests with wrong codes (the review got 17 through a limit of 10)."""
    user = UserFactory()
    account = PersonalAccountFactory()
    start = threading.Barrier(40)
    outcomes: list[str] = []

    def try_a_code(n: int) -> None:
        try:
            start.wait()
            services.link_account(user=user, number=account.number, code=f"WRONG{n:03d}")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=try_a_code, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("account_not_found") == services.LINK_ATTEMPTS_LIMIT
    assert outcomes.count("too_many_attempts") == 40 - services.LINK_ATTEMPTS_LIMIT


def test_a_mistyped_number_or_the_right_code_is_not_counted(user):
    account = PersonalAccountFactory()
    for _ in range(services.LINK_ATTEMPTS_LIMIT + 5):
        with pytest.raises(ValidationError, match="10 цифр"):
            services.link_account(user=user, number="12345", code="WRONG123")
    assert services.link_account(user=user, number=account.number, code=account.link_code)


def test_a_closed_account_cannot_be_linked(user):
    account = PersonalAccountFactory(closed_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        services.link_account(user=user, number=account.number, code=account.link_code)
    assert caught.value.code == "account_closed"


def test_allocated_account_numbers_are_valid_and_distinct():
    numbers = {services.allocate_account_number() for _ in range(50)}
    assert len(numbers) == 50
    assert all(is_valid_account_number(n) for n in numbers)
