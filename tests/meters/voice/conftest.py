"""The phone line's settings for tests, a subscriber with two meters, and a telephony platform
that calls the webhook with signed requests, as a real one does."""

import base64
import json
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from meters.voice.numbers import digits_to_speech
from meters.voice.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.factories import MeterFactory, PersonalAccountFactory, staff_user

MSK = ZoneInfo("Europe/Moscow")
IN_WINDOW = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
SECRET = "test-voice-secret"
OPERATOR = "PJSIP/operator"
CALLER = "+79181234567"


@pytest.fixture(autouse=True)
def _voice_settings(settings):
    settings.VOICE_WEBHOOK_SECRET = SECRET
    settings.VOICE_KEEP_RECORDINGS = False
    settings.VOICE_VOSK_MODEL_PATH = ""
    settings.VOICE_OPERATOR_EXTENSION = OPERATOR
    settings.VOICE_AGI_TTS_APP = "Festival"
    settings.VOICE_AGI_SPEECH_ENGINE = ""
    settings.VOICE_AGI_SPEECH_GRAMMAR = ""
    settings.VOICE_AGI_ALLOWED_IPS = ["127.0.0.1"]
    settings.VOICE_AGI_MAX_SESSIONS = 5
    settings.VOICE_AGI_IDLE_TIMEOUT = 10


@pytest.fixture
def in_window():
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


@pytest.fixture
def home(db):
    """An account with a cold and a hot meter, both at 100 m³ since January 2024."""
    account = PersonalAccountFactory()
    return SimpleNamespace(
        account=account,
        number=account.number,
        spoken=digits_to_speech(account.number),
        cold=MeterFactory(account=account, serial="СВ-700457", kind="cold"),
        hot=MeterFactory(account=account, serial="ГВ-800123", kind="hot"),
    )


class Platform:
    """A telephony platform posting one call's events to the webhook.

    Each request is signed at a later second than the one before, as a real platform's are
    (a caller takes seconds to answer): the tests freeze the clock, and the webhook refuses a
    request signed twice with the same timestamp and body as a replay."""

    def __init__(self, client, call_id="call-1", secret=SECRET):
        self.client = client
        self.call_id = call_id
        self.secret = secret
        self.signed_at = 0

    def request(self, body: bytes, *, timestamp=None, signature=None):
        if timestamp is None:
            self.signed_at = max(int(time.time()), self.signed_at + 1)
            timestamp = self.signed_at
        timestamp = str(timestamp)
        if signature is None:
            signature = sign(body, timestamp, self.secret)
        return self.client.post(
            reverse("voice:webhook"),
            body,
            content_type="application/json",
            headers={TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature},
        )

    def body(self, event, **fields) -> bytes:
        return json.dumps({"call_id": self.call_id, "event": event, **fields}).encode()

    def post(self, event, **fields) -> dict:
        response = self.request(self.body(event, **fields))
        assert response.status_code == 200, response.content
        return response.json()

    def start(self):
        return self.post("start", caller=CALLER)

    def say(self, text):
        return self.post("input", text=text)

    def press(self, digits):
        return self.post("input", digits=digits)

    def send_recording(self, wav: bytes, **fields):
        return self.post("input", recording=base64.b64encode(wav).decode(), **fields)

    def silence(self):
        return self.post("no_input")

    def hang_up(self):
        return self.post("hangup")


@pytest.fixture
def platform(client):
    return Platform(client)


@pytest.fixture
def operator(db):
    """A staff user of the operator group with the permissions the migrations grant."""
    return staff_user("operator")
