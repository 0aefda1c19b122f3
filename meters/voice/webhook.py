"""The phone line's HTTP webhook, for telephony platforms that recognise and synthesise speech
themselves (Voximplant, MTS Exolve, Zadarma, a Twilio-like gather). docs/phone-line.md §1, §5.

Contract
--------
The platform POSTs one JSON object per event of a call to `/voice/webhook/`:

    {
      "call_id": "c-81f2...",        # the platform's id of the call, up to 100 characters
      "event": "start",              # "start" | "input" | "no_input" | "hangup"
      "text": "двадцать три ноль…",  # optional: what its recogniser heard
      "digits": "2300012345#",       # optional: keypad digits, the "#" terminator optional
      "caller": "+79181234567",      # optional: the caller's number (the first request will do)
      "recording": "UklGRi…"         # optional: the answer as base64 WAV, 16-bit mono PCM
    }

and gets what to do next:

    {
      "say": "Номер счёта два три ноль — … Верно? …",  # Russian text for its synthesiser
      "collect": {"type": "speech_or_digits", "max_digits": 10, "terminator": "#",
                  "timeout": 7},     # or null when nothing is to be collected
      "action": "continue",          # "continue" | "transfer" | "hangup"
      "transfer_to": "…"             # only with "transfer": settings.VOICE_OPERATOR_EXTENSION
    }

After "continue" the platform says `say`, collects the answer as `collect` says and posts an
"input" (or "no_input" after `timeout` seconds of silence). After "transfer" it says `say` and
connects the caller to `transfer_to`; after "hangup" it says `say` and ends the call. When the
caller hangs up it posts "hangup". Repeating "start" for a call repeats the current question.

With a recording and no digits, keypad tones are decoded from the audio; when still no digits
were found and settings.VOICE_VOSK_MODEL_PATH is set, the speech is recognised locally
(meters/voice/recognition.py) and replaces the platform's text. The recording itself is stored
only when settings.VOICE_KEEP_RECORDINGS is true.

Authentication
--------------
Every request carries two headers:

    X-Voice-Timestamp: 1764000000          # Unix time in seconds when the request was signed
    X-Voice-Signature: 5f1c…               # hex HMAC-SHA256, key settings.VOICE_WEBHOOK_SECRET,
                                           # of  <timestamp> "." <raw request body>

A missing or wrong signature, a timestamp that is not 1 to 12 ASCII digits or is more than
5 minutes from our clock (a replayed request), or an empty secret (the line is not configured)
get 403 and change nothing. Within those 5 minutes each signed request is taken once: the
signatures seen are kept in the cache (Redis in production) for as long as their timestamp is
valid, and a request repeated byte for byte gets 409 and changes nothing. So a platform that
retries a request must sign it again with a new timestamp. A body that is not UTF-8 JSON, that
nests arrays or objects deeper than MAX_JSON_DEPTH, or is not the object above gets 400.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from meters.models import PhoneCall
from meters.voice import services
from meters.voice.dialog import Action, Event, EventKind, Reply
from meters.voice.recognition import keypad_from_recording, speech_from_recording
from vodokanal.common import json_safe

logger = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Voice-Timestamp"
SIGNATURE_HEADER = "X-Voice-Signature"
MAX_CLOCK_SKEW_S = 300
SEEN_KEY = "voice:webhook:seen:{signature}"  # a signed request already taken
MAX_JSON_DEPTH = 10  # the contract is one flat object; a platform may add a little structure
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; 10 digits until the year 2286


def sign(body: bytes, timestamp: str, secret: str) -> str:
    """The signature of a request body sent at `timestamp` (see the module docstring)."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def is_authentic(body: bytes, timestamp: str, signature: str) -> bool:
    """Whether the request was signed with our secret within MAX_CLOCK_SKEW_S of now.

    The timestamp is checked to be a short run of ASCII digits before it is read as a number:
    int() of thousands of digits is slow, and beyond 4300 digits raises ValueError."""
    secret = settings.VOICE_WEBHOOK_SECRET
    if not secret or not _TIMESTAMP.fullmatch(timestamp) or not signature:
        return False
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        return False
    expected = sign(body, timestamp, secret).encode()
    return hmac.compare_digest(expected, signature.strip().lower().encode())  # bytes: any header


def is_first_use(body: bytes, timestamp: str) -> bool:
    """Whether an authentic request is seen for the first time (not a replay).

    Its signature is remembered until its timestamp leaves the window, so a copy is refused
    for as long as it would pass `is_authentic`. `cache.add` stores the key only when absent,
    atomically (Redis SET NX), so of two copies sent at once exactly one gets through."""
    signature = sign(body, timestamp, settings.VOICE_WEBHOOK_SECRET)
    valid_for = int(timestamp) + MAX_CLOCK_SKEW_S - time.time()
    timeout = max(1, int(valid_for) + 1)  # at most 2 * MAX_CLOCK_SKEW_S + 1 seconds
    return cache.add(SEEN_KEY.format(signature=signature), 1, timeout=timeout)


class MalformedRequestError(ValueError):
    pass


def _string(payload: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise MalformedRequestError(f"'{name}' must be a {'non-empty ' if required else ''}string")
    return value


def _parse(body: bytes) -> tuple[str, str, Event, bytes | None]:
    """call_id, caller, the event, and the recording from a request body."""
    try:
        payload = json_safe.loads(body, max_depth=MAX_JSON_DEPTH)
    except json_safe.RefusedJSONError as error:
        raise MalformedRequestError(str(error)) from error
    if not isinstance(payload, dict):
        raise MalformedRequestError("the body is not a JSON object")
    call_id = _string(payload, "call_id", required=True)
    if len(call_id) > 100:
        raise MalformedRequestError("'call_id' is longer than 100 characters")
    try:
        kind = EventKind(_string(payload, "event", required=True))
    except ValueError as error:  # MalformedRequestError is a ValueError too, and says what is wrong
        raise MalformedRequestError(str(error)) from error
    recording = None
    if encoded := _string(payload, "recording"):
        try:
            recording = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise MalformedRequestError("'recording' is not base64") from error
    event = Event(kind, _string(payload, "text"), _string(payload, "digits"))
    return call_id, _string(payload, "caller"), event, recording


def _with_recording(event: Event, recording: bytes | None) -> Event:
    """Keypad tones, then local speech recognition, from the recorded answer."""
    if recording is None or event.kind is not EventKind.INPUT or event.digits:
        return event
    if keys := keypad_from_recording(recording):
        return Event(event.kind, event.text, keys)
    if recognised := speech_from_recording(recording):
        return Event(event.kind, recognised, "")
    return event


def render(reply: Reply) -> dict[str, Any]:
    """The response body for a reply (see the module docstring)."""
    body: dict[str, Any] = {"say": reply.say, "collect": None, "action": str(reply.action)}
    if reply.collect is not None:
        body["collect"] = {
            "type": reply.collect.kind,
            "max_digits": reply.collect.max_digits,
            "terminator": reply.collect.terminator,
            "timeout": reply.collect.timeout,
        }
    if reply.action is Action.TRANSFER:
        body["transfer_to"] = settings.VOICE_OPERATOR_EXTENSION
    return body


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """One event of a call from the telephony platform: signed JSON in, what to do next out."""
    body = request.body
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not is_authentic(body, timestamp, request.headers.get(SIGNATURE_HEADER, "")):
        logger.warning("voice webhook: a request with a bad signature or timestamp refused")
        return JsonResponse({"error": "forbidden"}, status=403)
    if not is_first_use(body, timestamp):
        logger.warning("voice webhook: a replayed request refused")
        return JsonResponse(
            {"error": "replayed request: this signed request was already received"}, status=409
        )
    try:
        call_id, caller, event, recording = _parse(body)
    except MalformedRequestError as error:
        return JsonResponse({"error": str(error)}, status=400)
    reply = services.handle_event(
        adapter=PhoneCall.Adapter.WEBHOOK,
        call_id=call_id,
        event=_with_recording(event, recording),
        caller=caller,
        recording=recording,
    )
    return JsonResponse(render(reply), json_dumps_params={"ensure_ascii": False})
