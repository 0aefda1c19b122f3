import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AccountLink, User
from tests.factories import (
    PASSWORD,
    LegalSubscriberFactory,
    PersonalAccountFactory,
    UserFactory,
    link,
)

pytestmark = pytest.mark.django_db


def test_registration_confirmation_and_login_by_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:register"),
            {
                "full_name": "Смирнова Анна",
                "email": "anna@example.ru",
                "phone": "+7 918 000-11-22",
                "password1": "Kran-Voda-2025",
                "password2": "Kran-Voda-2025",
                "consent": "on",
            },
        )
    assert response.status_code == 200
    assert "Подтвердите e-mail" in response.text
    refused = client.post(
        reverse("login"), {"username": "anna@example.ru", "password": "Kran-Voda-2025"}
    )
    assert refused.status_code == 200  # inactive until the e-mail is confirmed
    link_path = re.search(r"https?://[^/]+(/register/confirm/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link_path)
    assert response.status_code == 302
    response = client.post(
        reverse("login"), {"username": "ANNA@example.ru", "password": "Kran-Voda-2025"}
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:cabinet")


def test_registration_answers_alike_for_a_free_and_a_taken_email(client):
    """The page after registering is the same whether the e-mail was registered or not
    (the security review enumerated users by the old error)."""
    UserFactory(email="taken@example.ru", phone="+79180001122")

    def answer(email: str) -> tuple[int, str]:
        response = Client().post(
            reverse("accounts:register"),
            {
                "full_name": "Смирнова Анна",
                "email": email,
                "phone": "+7 918 000-11-22",
                "password1": "Kran-Voda-2025",
                "password2": "Kran-Voda-2025",
                "consent": "on",
            },
        )
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.text)
        return response.status_code, page.replace(email.lower(), "EMAIL")

    assert answer("Taken@Example.ru") == answer("free@example.ru")
    assert User.objects.filter(email="free@example.ru", phone="").exists()


def test_password_reset_link_is_on_the_site_url_not_the_requests_host(client, user, settings):
    settings.SITE_URL = "https://lk.vodokanal.example"
    settings.ALLOWED_HOSTS = ["attacker.example", "testserver"]

    response = client.post(
        reverse("password_reset"), {"email": user.email}, HTTP_HOST="attacker.example"
    )

    assert response.status_code == 302
    [letter] = mail.outbox
    assert "https://lk.vodokanal.example/password/reset/" in letter.body
    assert "attacker.example" not in letter.body


def test_registration_form_errors_are_russian_and_create_nothing(client):
    response = client.post(
        reverse("accounts:register"),
        {"email": "not-an-email", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 200
    assert "Пароли не совпадают" in response.text
    assert not User.objects.exists()


def test_login_by_phone(client):
    UserFactory(email="phone@example.ru", phone="+79181234567")
    response = client.post(reverse("login"), {"username": "8 918 123 45 67", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_gets_a_russian_message(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "Неверный e-mail (телефон) или пароль" in response.text


def test_login_is_throttled_after_repeated_failures(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "заблокирован" in response.text


@pytest.mark.parametrize("login_url", ["login", "admin:login"])
def test_letter_case_and_phone_formats_count_as_one_login(client, settings, login_url):
    """The review's attack: after «bf1@…» was locked, «BF1@…» got more guesses, and a right
    password in another case cleared the lock."""
    UserFactory(email="bf1@example.ru", phone="+79181112233", is_staff=True)
    url = reverse(login_url)
    spellings = ["bf1@example.ru", "BF1@example.ru", "Bf1@Example.RU", " bf1@example.ru "]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": spellings[attempt % 4], "password": "wrong"})
    for spelling in [*spellings, "+7 918 111 22 33", "89181112233"]:
        locked = client.post(url, {"username": spelling, "password": PASSWORD})
        assert locked.status_code == 429, spelling
    assert not client.session.get("_auth_user_id")


def test_a_locked_phone_login_stays_locked_in_any_format(client, settings):
    UserFactory(email="ph@example.ru", phone="+79185550000")
    for spelling in ["8 918 555 00 00", "+7 (918) 555-00-00", "9185550000"] * 2:
        client.post(reverse("login"), {"username": spelling, "password": "wrong"})
    response = client.post(reverse("login"), {"username": "+79185550000", "password": PASSWORD})
    assert response.status_code == 429


def test_password_reset_sends_a_working_link(client, user):
    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    path = re.search(r"https?://[^/]+(/password/reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Novyi-Parol-2025", "new_password2": "Novyi-Parol-2025"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Novyi-Parol-2025")


def test_logout_needs_post_and_ends_the_session(client, user):
    client.force_login(user)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("accounts:cabinet")).status_code == 302


def test_cabinet_requires_login(client):
    response = client.get(reverse("accounts:cabinet"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_adding_an_account_by_number_and_code(client, user):
    account = PersonalAccountFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:account-add"), {"number": account.number, "code": account.link_code}
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:account-detail", args=[account.number])
    page = client.get(response.url)
    assert account.address in page.text


def test_a_wrong_code_is_explained_and_links_nothing(client, user):
    account = PersonalAccountFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:account-add"), {"number": account.number, "code": "AAAAAAAA"}
    )
    assert response.status_code == 200
    assert "не найден" in response.text
    assert not AccountLink.objects.exists()


def test_another_users_account_is_404(client, subscriber_user):
    foreign = PersonalAccountFactory()
    client.force_login(subscriber_user)
    assert client.get(reverse("accounts:account-detail", args=[foreign.number])).status_code == 404
    assert (
        client.post(reverse("accounts:account-switch"), {"number": foreign.number}).status_code
        == 404
    )
    assert client.post(reverse("accounts:account-remove", args=[foreign.number])).status_code == 404


def test_an_unconfirmed_link_shows_nothing(client, user):
    account = PersonalAccountFactory()
    AccountLink.objects.create(user=user, account=account)
    client.force_login(user)
    assert client.get(reverse("accounts:account-detail", args=[account.number])).status_code == 404


def test_switching_between_accounts(client, user):
    first, second = PersonalAccountFactory(), PersonalAccountFactory()
    link(user, first)
    link(user, second)
    client.force_login(user)
    cabinet = client.get(reverse("accounts:cabinet"))
    assert first.number in cabinet.text
    assert second.number in cabinet.text
    detail = client.get(reverse("accounts:account-detail", args=[first.number]))
    assert 'name="number"' in detail.text
    assert second.number in detail.text
    response = client.post(reverse("accounts:account-switch"), {"number": second.number})
    assert response.url == reverse("accounts:account-detail", args=[second.number])
    # The cabinet now opens the selected account.
    assert client.get(reverse("accounts:cabinet")).url == response.url


def test_legal_entity_sees_its_organisation(client, user):
    account = PersonalAccountFactory(subscriber=LegalSubscriberFactory())
    link(user, account)
    client.force_login(user)
    page = client.get(reverse("accounts:account-detail", args=[account.number])).text
    assert "7707083893" in page
    assert "1027700132195" in page
    assert "ЮЛ-0042" in page


def test_individual_sees_no_organisation_block(client, subscriber_user, account):
    client.force_login(subscriber_user)
    page = client.get(reverse("accounts:account-detail", args=[account.number])).text
    assert "Организация" not in page


def test_removing_an_account_from_the_cabinet(client, subscriber_user, account):
    client.force_login(subscriber_user)
    client.post(reverse("accounts:account-remove", args=[account.number]))
    assert not AccountLink.objects.filter(user=subscriber_user).exists()


def test_post_without_csrf_token_is_refused(subscriber_user, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(subscriber_user)
    response = client.post(reverse("accounts:account-remove", args=[account.number]))
    assert response.status_code == 403
    assert AccountLink.objects.filter(user=subscriber_user).exists()


def test_pages_are_russian_and_load_bootstrap_from_our_static(client):
    page = client.get(reverse("home")).text
    assert '<html lang="ru">' in page
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "cdn" not in page.lower()
