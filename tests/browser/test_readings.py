"""A subscriber passes readings of two meters from a phone and sees them in the history."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from tests.factories import MeterFactory, PersonalAccountFactory, UserFactory, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_meters_submitted_and_seen_in_the_history(page, log_in, axe_violations):
    user = UserFactory()
    account = PersonalAccountFactory()
    link(user, account)
    cold = MeterFactory(account=account, serial="СВ-111111")
    hot = MeterFactory(account=account, serial="ГВ-222222", kind="hot")
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(user)
    # The server's clock only: the window must be open for the subscriber.
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("Europe/Moscow"))):
        page.goto(f"/cabinet/accounts/{account.number}/readings/")
        assert axe_violations() == []
        page.get_by_label(f"Холодная вода, счётчик № {cold.serial}").fill("123,456")
        page.get_by_label(f"Горячая вода, счётчик № {hot.serial}").fill("104,5")
        page.get_by_role("button", name="Передать показания").click()
        expect(page.get_by_role("alert").first).to_contain_text("принято")
        history = page.get_by_role("table")
        expect(history).to_contain_text("123,456")
        expect(history).to_contain_text("104,500")
        expect(history).to_contain_text("№ ГВ-222222")
