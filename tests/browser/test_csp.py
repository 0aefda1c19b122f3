"""The Content-Security-Policy in Chromium (docs/architecture.md §10): the console reports every
blocked script or style, the page fixture fails a test with any such report, and the staff's
pages (Django's admin, the debt dashboard, an object's history) keep to the policy as the
subscribers' pages do in every other browser test."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PersonalAccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_inline_style_is_blocked_and_reported(page, csp_errors):
    page.goto("/login/")
    page.csp_errors_expected = True  # this test makes one on purpose

    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<p id="probe" style="color: rgb(255, 0, 0)">x</p>\')'
    )

    expect(page.locator("#probe")).not_to_have_css("color", "rgb(255, 0, 0)")
    page.wait_for_timeout(200)  # the console message follows the layout
    assert any("style-src" in error for error in csp_errors)


def test_staff_pages_keep_to_the_policy(page, log_in, csp_errors):
    account = PersonalAccountFactory()
    subscriber = account.subscriber
    subscriber.name = "ООО «Проверка»"
    subscriber.save()  # a second history record, so the history page has a list
    log_in(UserFactory(is_staff=True, is_superuser=True))

    for path in (
        "/staff/",
        reverse("admin:accounts_subscriber_changelist"),
        reverse("admin:accounts_subscriber_change", args=[subscriber.pk]),
        reverse("admin:accounts_subscriber_history", args=[subscriber.pk]),
        reverse("admin:billing_ledgerentry_changelist"),
        reverse("admin:debtors_debtcase_dashboard"),
    ):
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("#content")).to_be_visible()

    page.wait_for_timeout(200)
    assert csp_errors == []
