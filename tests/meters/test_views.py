"""The cabinet's readings page: one form for all meters, warnings, results, history, chart."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from meters.models import MeterReading
from tests.factories import MeterFactory, PersonalAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_the_window():
    with time_machine.travel(
        datetime(2026, 11, 20, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        yield


@pytest.fixture
def page(client, subscriber_user, account):
    client.force_login(subscriber_user)
    return reverse("meters:readings", args=[account.number])


def test_the_form_lists_every_meter_with_its_last_reading(client, page, account):
    cold = MeterFactory(account=account, serial="СВ-1")
    hot = MeterFactory(account=account, serial="ГВ-2", kind="hot")
    text = client.get(page).text
    assert f'name="meter_{cold.pk}"' in text
    assert f'name="meter_{hot.pk}"' in text
    assert "Начальное показание: 100,000" in text
    assert "Приём показаний открыт до 25.11.2026" in text


def test_submitting_two_meters_at_once(client, page, account):
    cold = MeterFactory(account=account)
    hot = MeterFactory(account=account, kind="hot")
    response = client.post(
        page, {f"meter_{cold.pk}": "105,250", f"meter_{hot.pk}": "103"}, follow=True
    )
    assert response.status_code == 200
    assert MeterReading.objects.get(meter=cold).value == Decimal("105.250")
    assert MeterReading.objects.get(meter=hot).value == Decimal("103.000")
    assert "105,250 м³ по счётчику" in response.text
    assert "Личный кабинет" in response.text  # the history table shows the channel


def test_a_refusal_is_shown_at_its_meter_and_the_others_are_kept(client, page, account):
    good = MeterFactory(account=account)
    bad = MeterFactory(account=account)
    response = client.post(page, {f"meter_{good.pk}": "105", f"meter_{bad.pk}": "50"})
    assert response.status_code == 400
    assert "меньше предыдущего" in response.text
    assert MeterReading.objects.filter(meter=good).exists()
    assert not MeterReading.objects.filter(meter=bad).exists()


def test_implausible_consumption_asks_for_confirmation_then_accepts(client, page, account):
    meter = MeterFactory(account=account, installed_on=date(2026, 11, 10))
    response = client.post(page, {f"meter_{meter.pk}": "900"})
    assert response.status_code == 400
    assert f'name="confirm_{meter.pk}"' in response.text
    assert "необычно большой" in response.text
    assert not MeterReading.objects.exists()
    client.post(page, {f"meter_{meter.pk}": "900", f"confirm_{meter.pk}": "on"})
    reading = MeterReading.objects.get()
    assert reading.needs_review


def test_an_empty_form_asks_for_a_value(client, page, account):
    MeterFactory(account=account)
    response = client.post(page, {})
    assert "хотя бы одного счётчика" in response.text


def test_verification_warnings_ahead_and_after_expiry(client, page, account):
    MeterFactory(account=account, serial="SOON-1", verification_due=date(2026, 12, 10))
    expired = MeterFactory(account=account, serial="OLD-1", verification_due=date(2026, 11, 1))
    text = client.get(page).text
    assert "Срок поверки истекает 10.12.2026" in text
    assert "Срок поверки истёк 01.11.2026" in text
    assert f'name="meter_{expired.pk}"' not in text  # it takes no readings


def test_window_closed_is_announced_with_the_next_dates(client, page, account):
    MeterFactory(account=account)
    with time_machine.travel(
        datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        text = client.get(page).text
    assert "Следующий приём: с 15.12.2026 по 25.12.2026" in text


def test_history_and_chart_show_past_consumption(client, page, account):
    meter = MeterFactory(account=account)
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=ZoneInfo("Europe/Moscow"))):
        client.post(page, {f"meter_{meter.pk}": "104"})
    client.post(page, {f"meter_{meter.pk}": "110"})
    text = client.get(page).text
    assert "<svg" in text
    assert 'role="img"' in text
    assert "окт 26: холодная 4,000 м³" in text
    assert "ноя 26: холодная 6,000 м³" in text
    assert text.count("<tr>") >= 3


def test_another_users_account_is_404(client, subscriber_user):
    foreign = PersonalAccountFactory()
    MeterFactory(account=foreign)
    client.force_login(subscriber_user)
    assert client.get(reverse("meters:readings", args=[foreign.number])).status_code == 404


def test_a_foreign_meter_id_in_the_post_is_ignored(client, page, account):
    own = MeterFactory(account=account)
    foreign = MeterFactory()
    client.post(page, {f"meter_{own.pk}": "105", f"meter_{foreign.pk}": "105"})
    assert not MeterReading.objects.filter(meter=foreign).exists()


def test_the_page_makes_a_fixed_number_of_queries(
    client, page, account, django_assert_max_num_queries
):
    for _ in range(5):
        MeterFactory(account=account)
    with django_assert_max_num_queries(14):
        client.get(page)
