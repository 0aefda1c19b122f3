"""Staff see the call log with its turns and the statistics by day; recordings only through
the permission check; the phone line is listed among the channels of the public page."""

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from meters.models import PhoneCall
from meters.voice.selectors import CallStats, call_statistics
from tests.factories import staff_user
from tests.meters.voice.conftest import CALLER, MSK, Platform

pytestmark = pytest.mark.django_db

DAY_ONE = datetime(2026, 11, 19, 23, 30, tzinfo=MSK)  # 20:30 UTC: still the 19th in Moscow
DAY_TWO = datetime(2026, 11, 20, 0, 30, tzinfo=MSK)  # 21:30 UTC on the 19th: the 20th in Moscow


def completed_call(client, home, call_id):
    platform = Platform(client, call_id)
    platform.start()
    platform.say(home.spoken)
    platform.say("да")
    platform.press("120")
    platform.press("1")
    platform.press("130")
    platform.press("1")
    assert PhoneCall.objects.get(call_id=call_id).outcome == "completed"


def silent_call(client, call_id):
    platform = Platform(client, call_id)
    platform.start()
    for _ in range(3):
        platform.silence()


def hung_up_call(client, call_id):
    platform = Platform(client, call_id)
    platform.start()
    platform.say("двадцать три")  # too short: asked again
    platform.hang_up()


@pytest.fixture
def calls(client, home):
    """Day one: one completed call (two readings). Day two: a call transferred after three
    silences, and a call hung up after one retry."""
    with time_machine.travel(DAY_ONE, tick=False):
        completed_call(client, home, "a")
    with time_machine.travel(DAY_TWO, tick=False):
        silent_call(client, "b")
        hung_up_call(client, "c")


def test_statistics_count_calls_by_moscow_day(calls):
    days, total = call_statistics(first=date(2026, 11, 1), last=date(2026, 11, 30))
    assert days == [
        CallStats(
            date(2026, 11, 20),
            calls=2,
            completed=0,
            readings=0,
            retries=4,
            transfers=1,
            hung_up=1,
            failed=0,
        ),
        CallStats(
            date(2026, 11, 19),
            calls=1,
            completed=1,
            readings=2,
            retries=0,
            transfers=0,
            hung_up=0,
            failed=0,
        ),
    ]
    assert total == CallStats(
        None, calls=3, completed=1, readings=2, retries=4, transfers=1, hung_up=1, failed=0
    )


def test_statistics_are_limited_to_the_period(calls):
    days, total = call_statistics(first=date(2026, 11, 20), last=date(2026, 11, 20))
    assert [d.day for d in days] == [date(2026, 11, 20)]
    assert total.calls == 2


def test_an_operator_sees_the_statistics_from_the_call_list(client, calls, operator):
    client.force_login(operator)
    changelist = client.get(reverse("admin:meters_phonecall_changelist"))
    assert changelist.status_code == 200
    url = reverse("admin:meters_phonecall_statistics")
    assert f'href="{url}"' in changelist.text
    with time_machine.travel(DAY_TWO, tick=False):
        page = client.get(url)
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert (
        '<tr id="call-statistics-total"> <th scope="row">Итого</th> <td>3</td> <td>1</td> '
        "<td>2</td> <td>4</td> <td>1</td> <td>1</td> <td>0</td> </tr>"
    ) in text
    assert '<th scope="row">19.11.2026</th> <td>1</td> <td>1</td> <td>2</td>' in text


def test_an_operator_reads_a_call_with_its_turns(client, calls, home, operator):
    client.force_login(operator)
    call = PhoneCall.objects.get(call_id="a")
    page = client.get(reverse("admin:meters_phonecall_change", args=[call.pk]))
    assert page.status_code == 200
    assert CALLER in page.text  # staff see the number
    assert "Показание принято и сохранено." in page.text
    assert home.number in page.text


def test_the_call_log_cannot_be_edited(client, calls, operator):
    client.force_login(operator)
    call = PhoneCall.objects.get(call_id="a")
    url = reverse("admin:meters_phonecall_change", args=[call.pk])
    response = client.post(url, {"outcome": "failed"})
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.outcome == "completed"
    assert client.get(reverse("admin:meters_phonecall_add")).status_code == 403
    assert client.get(reverse("admin:meters_phonecall_delete", args=[call.pk])).status_code == 403


def test_staff_without_the_permission_see_no_calls(client, calls):
    client.force_login(staff_user("accountant"))
    assert client.get(reverse("admin:meters_phonecall_changelist")).status_code == 403
    assert client.get(reverse("admin:meters_phonecall_statistics")).status_code == 403


def test_a_kept_recording_is_served_to_staff_only(client, home, settings, operator):
    from meters.models import PhoneTurn
    from meters.voice.dtmf import generate_dtmf, samples_to_wav

    settings.VOICE_KEEP_RECORDINGS = True
    wav = samples_to_wav(generate_dtmf(home.number, 8000), 8000)
    with time_machine.travel(DAY_TWO, tick=False):
        platform = Platform(client, "r")
        platform.start()
        platform.send_recording(wav)
    turn = PhoneTurn.objects.get(call__call_id="r", n=2)
    url = reverse("admin:meters_phonecall_recording", args=[turn.pk])

    client.force_login(staff_user("accountant"))
    assert client.get(url).status_code == 404
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == wav
    page = client.get(reverse("admin:meters_phonecall_change", args=[turn.call.pk]))
    assert f'href="{url}"' in page.text


@pytest.mark.usefixtures("payment_agents")
def test_the_phone_line_is_listed_among_the_channels(client):
    page = client.get(reverse("billing:channels")).text
    assert "Автоматическая телефонная линия" in page
    assert "+7 (861) 200-00-01" in page
    assert CALLER not in page
