"""The webhook's contract: signatures, replay protection, bad requests, and answers sent as
recordings (keypad tones decoded from audio, local recognition when configured)."""

import base64
import json
import logging
import time

import pytest
from django.urls import reverse

from meters.models import MeterReading, PhoneCall, PhoneTurn
from meters.voice.dtmf import generate_dtmf, samples_to_wav
from meters.voice.numbers import digits_to_speech
from meters.voice.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.meters.voice.conftest import SECRET

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
