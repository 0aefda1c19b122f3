"""Writes of the phone line: one event of a call through the dialog, logged (docs/phone-line.md §1).

Both adapters (meters/voice/webhook.py, meters/voice/fastagi.py) call `handle_event` and nothing
else. It loads the call's dialog state, runs the dialog against the portal (`OrmBackend`, which
stores readings through meters.services.submit_reading on the "phone" channel), and saves the
new state with the turn, in one transaction."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import PersonalAccount
from accounts.selectors import account_by_number
from meters.models import MeterReading, PhoneCall, PhoneTurn
from meters.selectors import meter_cards, reading_window_is_open
from meters.services import submit_reading
from meters.voice.dialog import (
    AccountInfo,
    Action,
    Dialog,
    Event,
    MeterInfo,
    ReadingWindow,
    Reply,
    State,
    Submission,
    text,
)
from vodokanal.common import clock

logger = logging.getLogger(__name__)

FAILURE = "Извините, произошла техническая ошибка. Соединяю с оператором."
SERIAL_TAIL = (
    3  # docs/phone-line.md §2: a meter is announced by the last three digits of its serial
)


class OrmBackend:
    """The dialog's view of the portal: accounts, meters and submit_reading."""

    def reading_window(self) -> ReadingWindow:
        first, last = settings.READING_WINDOW_DAYS
        windowed = MeterReading.Channel.PHONE in settings.READING_WINDOW_CHANNELS
        return ReadingWindow(not windowed or reading_window_is_open(), first, last)

    def find_account(self, number: str) -> AccountInfo | None:
        account = account_by_number(number)
        if account is None:
            return None
        closed = account.closed_on is not None and account.closed_on <= clock.today()
        return AccountInfo(id=account.pk, closed=closed)

    def working_meters(self, account_id: int) -> list[MeterInfo]:
        account = PersonalAccount.objects.get(pk=account_id)
        return [
            MeterInfo(
                id=card.meter.pk,
                kind=card.meter.kind,
                tail="".join(c for c in card.meter.serial if c.isdecimal())[-SERIAL_TAIL:],
                digits=card.meter.digits,
            )
            for card in meter_cards(account)
            if card.takes_readings
        ]

    def submit(self, *, meter_id: int, value: Decimal, confirmed: bool) -> Submission:
        try:
            result = submit_reading(
                meter_id=meter_id,
                value=value,
                channel=MeterReading.Channel.PHONE,
                confirmed=confirmed,
            )
        except ValidationError as error:
            return Submission(
                accepted=False,
                code=error.code or "",
                params=dict(error.params or {}),
                message=error.messages[0],
            )
        return Submission(
            accepted=True,
            reading_id=result.reading.pk,
            created=result.created,
            superseded=result.superseded is not None,
        )


def handle_event(
    *,
    adapter: str,
    call_id: str,
    event: Event,
    caller: str = "",
    recording: bytes | None = None,
) -> Reply:
    """Run one event of a call through the dialog and log it as a turn (docs/phone-line.md §1).

    The call's row is locked for the turn, so two requests of one call cannot interleave; a
    reading is stored in the same transaction as the turn that confirms it. An unexpected error
    is logged, the call marked failed and the caller handed to an operator."""
    try:
        return _handle_event(
            adapter=adapter, call_id=call_id, event=event, caller=caller, recording=recording
        )
    except Exception:
        logger.exception("phone call %s (%s): the dialog failed", call_id, adapter)
        return fail_call(adapter=adapter, call_id=call_id, event=event)


@transaction.atomic
def _handle_event(
    *, adapter: str, call_id: str, event: Event, caller: str, recording: bytes | None
) -> Reply:
    call, created = PhoneCall.objects.select_for_update().get_or_create(
        adapter=adapter, call_id=call_id, defaults={"caller": caller[:40]}
    )
    if created:
        logger.info("phone call %s started via %s", call.pk, adapter)
    dialog = Dialog(State.from_json(call.state), OrmBackend())
    reply = dialog.handle(event)
    state = dialog.state

    call.state = state.to_json()
    call.account_id = state.account_id
    call.retries = state.retries
    call.readings_stored = len(state.stored)
    if state.outcome and call.outcome == PhoneCall.Outcome.IN_PROGRESS:
        call.outcome = state.outcome
        call.ended_at = clock.now()
        logger.info("phone call %s ended: %s", call.pk, call.outcome)
    call.save()
    _log_turn(call, event=event, reply=reply, recording=recording)
    return reply


def _log_turn(call: PhoneCall, *, event: Event, reply: Reply, recording: bytes | None) -> None:
    n = call.turns.count() + 1  # the call's row is locked: no other turn is being written
    turn = PhoneTurn(
        call=call,
        n=n,
        event=event.kind,
        heard_text=event.text,
        heard_digits=event.digits[:40],
        understood=reply.understood[:100],
        problem=reply.problem[:40],
        prompt=reply.say,
        action=reply.action,
        reading_id=reply.reading_id,
    )
    if recording and settings.VOICE_KEEP_RECORDINGS:
        turn.recording.save(f"call-{call.pk}-{n}.wav", ContentFile(recording), save=False)
    turn.save()


@transaction.atomic
def fail_call(*, adapter: str, call_id: str, event: Event) -> Reply:
    """Mark a call failed (an error of ours or of the PBX) and hand the caller to an operator."""
    reply = Reply((text(FAILURE),), None, Action.TRANSFER, problem="failed")
    call, _ = PhoneCall.objects.select_for_update().get_or_create(adapter=adapter, call_id=call_id)
    if call.outcome == PhoneCall.Outcome.IN_PROGRESS:
        call.outcome = PhoneCall.Outcome.FAILED
        call.ended_at = clock.now()
        call.save(update_fields=["outcome", "ended_at"])
    _log_turn(call, event=event, reply=reply, recording=None)
    return reply
