"""The webhook's contract: signatures, replay protection, bad requests, and answers sent as
recordings (keypad tones decoded from audio, local recognition when configured)."""

import base64
import json
import logging
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from meters.models import MeterReading, PhoneCall, PhoneTurn
from meters.voice.dtmf import generate_dtmf, samples_to_wav
from meters.voice.numbers import digits_to_speech
from meters.voice.webhook import SEEN_KEY, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.json_strategies import SCALARS, VALUES, bodies
from tests.meters.voice.conftest import IN_WINDOW, SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_window")]


def at_reading_confirmation(platform, home):
    """A call waiting for the "да" that stores 123 m³ on the cold meter."""
    platform.start()
    platform.say(home.spoken)
    platform.say("да")
    platform.say("сто двадцать три")
    return PhoneCall.objects.get()


def nothing_changed(call):
    before = (call.state, call.turns.count())
    call.refresh_from_db()
    return (call.state, call.turns.count()) == before and not MeterReading.objects.exists()


def test_a_bad_signature_is_refused_and_changes_nothing(platform, home):
    call = at_reading_confirmation(platform, home)
    body = platform.body("input", text="да")
    response = platform.request(body, signature=sign(body, str(int(time.time())), "guessed"))
    assert response.status_code == 403
    assert nothing_changed(call)


def test_a_signature_that_is_not_hex_is_refused(platform, home):
    response = platform.request(platform.body("start"), signature="подпись")
    assert response.status_code == 403
    assert not PhoneCall.objects.exists()


def test_a_body_changed_after_signing_is_refused(platform, home):
    call = at_reading_confirmation(platform, home)
    timestamp = str(int(time.time()))
    signature = sign(platform.body("input", text="нет"), timestamp, SECRET)
    response = platform.request(
        platform.body("input", text="да"), timestamp=timestamp, signature=signature
    )
    assert response.status_code == 403
    assert nothing_changed(call)


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_a_stale_or_future_timestamp_is_refused_as_a_replay(platform, home, skew):
    call = at_reading_confirmation(platform, home)
    body = platform.body("input", text="да")
    timestamp = int(time.time()) + skew
    response = platform.request(body, timestamp=timestamp)  # signed correctly, at that time
    assert response.status_code == 403
    assert nothing_changed(call)


def test_a_timestamp_within_five_minutes_is_accepted(platform, home):
    at_reading_confirmation(platform, home)
    body = platform.body("input", text="да")
    response = platform.request(body, timestamp=int(time.time()) - 299)
    assert response.status_code == 200
    assert MeterReading.objects.count() == 1


def test_a_request_without_the_headers_is_refused(client, home):
    body = json.dumps({"call_id": "x", "event": "start"})
    response = client.post(reverse("voice:webhook"), body, content_type="application/json")
    assert response.status_code == 403
    assert not PhoneCall.objects.exists()


def test_without_a_configured_secret_every_request_is_refused(platform, settings, home):
    settings.VOICE_WEBHOOK_SECRET = ""
    platform.secret = ""
    response = platform.request(platform.body("start"))
    assert response.status_code == 403
    assert not PhoneCall.objects.exists()


def test_only_post_is_allowed(client):
    assert client.get(reverse("voice:webhook")).status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"event": "start"}',
        b'{"call_id": "c", "event": "ring"}',
        b'{"call_id": "c", "event": "input", "text": 5}',
        b'{"call_id": "c", "event": "input", "recording": "***"}',
        json.dumps({"call_id": "c" * 101, "event": "start"}).encode(),
    ],
)
def test_a_malformed_request_is_refused_and_nothing_is_stored(platform, body):
    response = platform.request(body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not PhoneCall.objects.exists()


def test_two_calls_keep_their_own_dialogs(client, home):
    from tests.meters.voice.conftest import Platform

    first, second = Platform(client, "call-a"), Platform(client, "call-b")
    first.start()
    second.start()
    first.say(home.spoken)
    assert second.silence()["say"].startswith("Я вас не слышу. Назовите номер лицевого счёта")
    assert first.say("да")["say"].startswith("По счёту два счётчика.")
    assert PhoneCall.objects.count() == 2


# --- Answers sent as recordings ---------------------------------------------------------------


def keypad_recording(keys, sample_rate=8000, snr_db=10, seed=7):
    noise = 6000 / 10 ** (snr_db / 20)  # white noise this far below the two tones
    samples = generate_dtmf(keys, sample_rate, tone_ms=60, gap_ms=60, noise=noise, seed=seed)
    return samples_to_wav(samples, sample_rate)


@pytest.mark.parametrize("sample_rate", [8000, 16000])
def test_keypad_tones_in_a_noisy_recording_are_decoded(platform, home, sample_rate):
    platform.start()
    reply = platform.send_recording(keypad_recording(home.number + "#", sample_rate))
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]
    reply = platform.send_recording(keypad_recording("1", sample_rate, seed=8))
    assert "Счётчик холодной воды" in reply["say"]
    turn = PhoneTurn.objects.get(n=2)
    assert (turn.heard_digits, turn.understood) == (home.number + "#", home.number)


def test_recordings_are_not_kept_unless_the_setting_says_so(platform, home, settings):
    platform.start()
    platform.send_recording(keypad_recording(home.number))
    assert not PhoneTurn.objects.get(n=2).recording

    settings.VOICE_KEEP_RECORDINGS = True
    wav = keypad_recording("1")
    platform.send_recording(wav)
    turn = PhoneTurn.objects.get(n=3)
    assert turn.recording.name.endswith(".wav")
    assert turn.recording.read() == wav


def test_keys_sent_by_the_platform_win_over_the_recording(platform, home):
    platform.start()
    reply = platform.send_recording(keypad_recording("1234567890"), digits=home.number)
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]


def test_a_recording_without_tones_leaves_the_platforms_text(platform, home):
    platform.start()
    silence = samples_to_wav([0] * 8000, 8000)
    reply = platform.send_recording(silence, text=home.spoken)
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]


def test_without_vosk_the_platforms_text_is_used_and_the_log_says_why(
    platform, home, settings, caplog, tmp_path
):
    settings.VOICE_VOSK_MODEL_PATH = str(tmp_path / "vosk-model-small-ru")
    platform.start()
    speech_like = samples_to_wav(generate_dtmf("", 8000, gap_ms=500, noise=2000, seed=3), 8000)
    with caplog.at_level(logging.WARNING, logger="meters.voice.recognition"):
        reply = platform.send_recording(speech_like, text=home.spoken)
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]
    assert any(
        "vosk package is not installed" in message or "cannot be loaded" in message
        for message in caplog.messages
    )


def test_a_recording_that_is_not_a_wav_is_ignored(platform, home):
    platform.start()
    body = platform.body(
        "input", text=home.spoken, recording=base64.b64encode(b"RIFF-not-really").decode()
    )
    response = platform.request(body)
    assert response.status_code == 200
    assert digits_to_speech(home.number, groups=(3, 3)) in response.json()["say"]


def test_signature_headers_are_the_documented_ones():
    assert (TIMESTAMP_HEADER, SIGNATURE_HEADER) == ("X-Voice-Timestamp", "X-Voice-Signature")
    # HMAC-SHA256 over "<timestamp>.<body>", hex: a platform can compute it with any library.
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(b"{}", "1700000000", "k") == expected


# --- Replays within the window ------------------------------------------------------------------


def test_a_signed_request_replayed_within_the_window_is_refused(platform, home):
    call = at_reading_confirmation(platform, home)
    body = platform.body("input", text="да")
    timestamp = int(time.time())
    signature = sign(body, str(timestamp), SECRET)
    assert platform.request(body, timestamp=timestamp, signature=signature).status_code == 200
    call.refresh_from_db()
    before = (call.state, call.turns.count())

    for replayed_at in (1, 150, 299):  # seconds later, the timestamp still in the window
        with time_machine.travel(IN_WINDOW + timedelta(seconds=replayed_at), tick=False):
            response = platform.request(body, timestamp=timestamp, signature=signature)
        assert response.status_code == 409
        assert response.json() == {
            "error": "replayed request: this signed request was already received"
        }
        call.refresh_from_db()
        assert (call.state, call.turns.count()) == before
    assert MeterReading.objects.count() == 1


@pytest.mark.parametrize("spelling", [str.upper, lambda s: f" {s} "])
def test_a_replay_with_the_signature_spelled_differently_is_refused(platform, home, spelling):
    body = platform.body("start")
    timestamp = int(time.time())
    signature = sign(body, str(timestamp), SECRET)
    assert platform.request(body, timestamp=timestamp, signature=signature).status_code == 200
    response = platform.request(body, timestamp=timestamp, signature=spelling(signature))
    assert response.status_code == 409
    assert PhoneCall.objects.get().turns.count() == 1


def test_a_replay_after_the_window_is_refused_as_stale(platform, home):
    body = platform.body("start")
    timestamp = int(time.time())
    assert platform.request(body, timestamp=timestamp).status_code == 200
    with time_machine.travel(IN_WINDOW + timedelta(seconds=301), tick=False):
        assert platform.request(body, timestamp=timestamp).status_code == 403


def test_seen_signatures_are_kept_in_the_cache_for_the_window(platform, home):
    body = platform.body("start")
    timestamp = str(int(time.time()) - 100)  # valid for 200 more seconds
    assert platform.request(body, timestamp=timestamp).status_code == 200
    key = SEEN_KEY.format(signature=sign(body, timestamp, SECRET))
    assert cache.get(key) is not None
    with time_machine.travel(IN_WINDOW + timedelta(seconds=199), tick=False):
        assert cache.get(key) is not None
    with time_machine.travel(IN_WINDOW + timedelta(seconds=202), tick=False):
        assert cache.get(key) is None  # forgotten once the timestamp alone refuses the copy


def test_a_forged_request_does_not_use_up_the_signature(platform, home):
    body = platform.body("start")
    timestamp = int(time.time())
    forged = platform.request(body, timestamp=timestamp, signature="0" * 64)
    assert forged.status_code == 403
    assert platform.request(body, timestamp=timestamp).status_code == 200


# --- Malformed headers and bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        "1" * 5000,  # int() refuses strings of more than 4300 digits
        "9" * 13,
        "١٧٦٣٦٤٣٦٠٠",  # Arabic-Indic digits: isdecimal(), and int() reads them
        "+1763643600",
        " 1763643600",
        "1763643600.5",
        "",
    ],
    ids=["5000-digits", "13-digits", "arabic-indic", "plus", "space", "fraction", "empty"],
)
def test_a_timestamp_that_is_not_a_few_ascii_digits_is_refused(platform, home, timestamp):
    body = platform.body("start")
    response = platform.request(body, timestamp=timestamp)  # signed with that very timestamp
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden"}
    assert not PhoneCall.objects.exists()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [11, 1000, 100_000])
def test_deeply_nested_json_is_refused_with_400(platform, home, depth):
    body = f'{{"call_id": "c", "event": "start", "extra": {nested(depth)}}}'.encode()
    response = platform.request(body)
    assert response.status_code == 400
    assert response.json() == {"error": "the JSON is nested deeper than 10 levels"}
    assert not PhoneCall.objects.exists()


def test_a_deeply_nested_body_is_refused(platform):
    response = platform.request(("[" * 100_000).encode())
    assert response.status_code == 400
    assert not PhoneCall.objects.exists()


def test_extra_fields_with_a_little_nesting_and_brackets_in_text_are_accepted(platform, home):
    body = json.dumps(
        {
            "call_id": "c",
            "event": "start",
            "caller": "+7 [918] {123}",
            "meta": {"platform": {"alternatives": [[{"text": "[[[[[[[[[[[[", "score": 1}]]}},
        }
    ).encode()
    assert platform.request(body).status_code == 200
    assert PhoneCall.objects.get().caller == "+7 [918] {123}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"call_id": "c", "event": "start", "text": "\xff\xfe"}',
        '{"call_id": "c", "event": "start"}'.encode("utf-16"),
        b'{"call_id": "c", "event": "start", "text": "[[[[[[[[[[[[[[[[[[[[[',
    ],
    ids=["not-utf8", "utf16", "unterminated-string"],
)
def test_a_body_that_is_not_utf8_json_is_refused_with_400(platform, body):
    response = platform.request(body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not PhoneCall.objects.exists()


# --- Fuzzing (docs/phone-line.md §5): a signed body of any content is answered or
# refused with 400, never a 500 ---

EVENT_LIKE = st.fixed_dictionaries(
    {
        "call_id": st.sampled_from(["call-1", "", "x" * 101]) | SCALARS,
        "event": st.sampled_from(["start", "input", "no_input", "hangup", "transfer"]) | SCALARS,
    },
    optional={
        "text": st.text(max_size=60) | SCALARS,
        "digits": st.text("0123456789#*", max_size=20) | SCALARS,
        "caller": SCALARS,
        "recording": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | SCALARS,
        "extra": VALUES,
    },
)


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies(EVENT_LIKE))
def test_any_signed_body_is_answered_or_refused_never_an_error(platform, home, body):
    response = platform.request(body)

    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert set(response.json()) == {"error"}
