"""A subscriber registers, confirms, logs in, adds an account and sees it; a second user
cannot reach it. Main pages have no serious accessibility violations (axe-core)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def test_register_confirm_log_in_add_an_account_and_see_it(page, live_server):
    account = PersonalAccountFactory(address="г. Краснодар, ул. Северная, д. 12, кв. 5")
    page.set_viewport_size(PHONE)
    page.goto("/register/")
    page.get_by_label("ФИО").fill("Смирнова Анна Сергеевна")
    page.get_by_label("E-mail").fill("anna@example.ru")
    page.get_by_label(re.compile(r"^\s*Пароль\*?\s*$")).fill("Kran-Voda-2025")
    page.get_by_label("Пароль ещё раз").fill("Kran-Voda-2025")
    page.get_by_label("Согласен на обработку персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.get_by_role("alert")).to_contain_text("anna@example.ru")

    link_path = re.search(r"https?://[^/]+(/register/confirm/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link_path)
    expect(page.get_by_role("alert")).to_contain_text("E-mail подтверждён")

    page.get_by_label("E-mail или телефон").fill("anna@example.ru")
    page.get_by_label(re.compile(r"^\s*Пароль\*?\s*$")).fill("Kran-Voda-2025")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Мои лицевые счета")).to_be_visible()

    page.get_by_role("link", name="Добавить лицевой счёт").click()
    page.get_by_label("Номер лицевого счёта").fill(account.number)
    page.get_by_label("Код для личного кабинета").fill(account.link_code)
    page.get_by_role("button", name="Добавить счёт").click()
    expect(page.get_by_role("heading", name=f"Лицевой счёт {account.number}")).to_be_visible()
    expect(page.get_by_text("ул. Северная, д. 12, кв. 5")).to_be_visible()

    # A second user cannot reach it.
    other = UserFactory()
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("E-mail или телефон").fill(other.email)
    page.get_by_label(re.compile(r"^\s*Пароль\*?\s*$")).fill("Vodokanal-test-1")
    page.get_by_role("button", name="Войти").click()
    response = page.goto(f"/cabinet/accounts/{account.number}/")
    assert response.status == 404


def test_switching_accounts_on_a_phone(page, log_in):
    user = UserFactory()
    first, second = PersonalAccountFactory(), PersonalAccountFactory()
    link(user, first)
    link(user, second)
    page.set_viewport_size(PHONE)
    log_in(user)
    page.goto(f"/cabinet/accounts/{first.number}/")
    page.get_by_label("Лицевой счёт").select_option(second.number)
    page.get_by_role("button", name="Перейти").click()
    expect(page.get_by_role("heading", name=f"Лицевой счёт {second.number}")).to_be_visible()


@pytest.mark.parametrize(
    "path", ["/", "/login/", "/register/", "/password/reset/", "/cabinet/", "ACCOUNT"]
)
def test_main_pages_have_no_serious_accessibility_violations(page, log_in, axe_violations, path):
    if path in ("/cabinet/", "ACCOUNT"):
        user = UserFactory()
        account = PersonalAccountFactory()
        link(user, account)
        link(user, PersonalAccountFactory())
        log_in(user)
        path = f"/cabinet/accounts/{account.number}/" if path == "ACCOUNT" else path
    for viewport in (PHONE, {"width": 1280, "height": 900}):
        page.set_viewport_size(viewport)
        page.goto(path)
        assert axe_violations() == []
