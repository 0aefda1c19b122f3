"""The phone line for Asterisk: a FastAGI server driving the dialog (ivr.md, "FastAGI").

The dialplan hands a call to the server, e.g.

    exten => 200,1,AGI(agi://portal.example:4573/readings)
     same => n,Hangup()

and the server (`manage.py fastagi --host 0.0.0.0 --port 4573`) speaks the AGI protocol over
the connection: Asterisk first sends the channel's `agi_*` variables, one `name: value` line
each, ended by an empty line; then the server sends one command per line and reads each reply,
`200 result=<n> [(<data>)] [key=value ...]`. A `HANGUP` line, a `511` reply (dead channel), a
`-1` result of a playing or reading command, or a closed connection mean the caller has gone.

Per call (`agi_uniqueid` is the call id):

- `ANSWER`;
- prompts: text through the PBX's speech synthesiser, `EXEC <VOICE_AGI_TTS_APP> "<text>"`
  (Festival, MRCPSynth, ...), and digits (the account number, a serial's tail) with the PBX's
  recorded digits, `SAY DIGITS <digits> ""`;
- answers: when VOICE_AGI_SPEECH_ENGINE is set, `SPEECH CREATE <engine>` and `SPEECH ACTIVATE
  GRAMMAR <VOICE_AGI_SPEECH_GRAMMAR>` once, then `SPEECH RECOGNIZE <silence> <timeout-s>` per
  answer; its reply is `(speech) ... text0="..."`, `(digit) digit=<d>` (the caller started
  typing: the rest is read with GET DATA), `(timeout)` or `(hangup)`. Without an engine, or when
  it fails, the keypad: `GET DATA <silence> <timeout-ms> <max-digits>` (`#` ends the input);
- transfer: `EXEC Dial "<VOICE_OPERATOR_EXTENSION>"`; with no extension configured the server
  ends the AGI session and the dialplan continues (put the operator's Dial after AGI() there);
- the end of the dialog: `HANGUP`.

Each connection is served in its own thread (socketserver.ThreadingTCPServer), so the dialog's
ORM calls run in plain synchronous threads and Django's async-safety guard is never involved.
"""

import logging
import re
import socketserver
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import connections

from meters.models import PhoneCall
from meters.voice import services
from meters.voice.dialog import Action, Collect, Event, EventKind, Part, Reply

logger = logging.getLogger(__name__)

SILENCE_FILE = "silence/1"  # played while waiting for an answer (Asterisk's core sounds)
_REPLY = re.compile(r"^(?P<code>\d{3})[ -](?:result=(?P<result>\S*))?(?P<rest>.*)$")
_DATA = re.compile(r"^\s*\((?P<data>[^)]*)\)")
_PAIR = re.compile(r'(?P<key>\w+)=(?:"(?P<quoted>[^"]*)"|(?P<bare>\S*))')


class AgiError(Exception):
    """The PBX refused a command (510 unknown command, 520 bad syntax)."""


class HungUp(Exception):  # noqa: N818 - the event it stands for
    """The caller has gone: the channel is dead or the connection closed."""


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str = ""
    data: str = ""  # the part in parentheses: "timeout", "speech", "digit"
    values: dict[str, str] = field(default_factory=dict)  # endpos=..., text0=..., digit=...


def parse_reply(line: str) -> AgiReply:
    """`200 result=1 (speech) endpos=0 results=1 score0=900 text0="сто" grammar0=numbers`."""
    match = _REPLY.match(line.strip())
    if match is None:
        raise AgiError(f"Not an AGI reply: {line!r}")
    rest = match["rest"]
    data = ""
    if parenthesised := _DATA.match(rest):
        data = parenthesised["data"]
        rest = rest[parenthesised.end() :]
    values = {
        pair["key"]: pair["quoted"] if pair["quoted"] is not None else pair["bare"]
        for pair in _PAIR.finditer(rest)
    }
    return AgiReply(int(match["code"]), match["result"] or "", data, values)


def quote(argument: str) -> str:
    """One AGI command argument: in double quotes, which AGI's parser removes."""
    return '"' + argument.replace("\\", "").replace('"', "") + '"'


def tts_argument(text: str) -> str:
    """The text for the synthesiser application: commas escaped ("\\,"), because Asterisk
    splits application arguments at commas; AGI's own parser turns "\\\\," into "\\,"."""
    return quote(text.strip()).replace(",", "\\\\,")


class AgiChannel:
    """One AGI session: the variables, then commands out and replies in."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self.hung_up = False

    def _line(self) -> str:
        raw = self.reader.readline()
        if not raw:
            raise HungUp
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def variables(self) -> dict[str, str]:
        """The `agi_*` block that opens the session."""
        found: dict[str, str] = {}
        while line := self._line():
            name, _, value = line.partition(":")
            found[name.strip()] = value.strip()
        return found

    def command(self, line: str) -> AgiReply:
        if self.hung_up:
            raise HungUp
        self.writer.write(line.encode() + b"\n")
        self.writer.flush()
        while True:
            answer = self._line()
            if answer.strip() == "HANGUP":  # sent by Asterisk when the caller hangs up
                self.hung_up = True
                continue
            if answer.startswith("520-"):  # usage text follows, up to "520 End of ..."
                while not self._line().startswith("520 "):
                    pass
                raise AgiError(f"{line.split()[0]}: invalid command syntax")
            reply = parse_reply(answer)
            break
        if reply.code == 511:
            self.hung_up = True
            raise HungUp
        if reply.code != 200:
            raise AgiError(f"{line.split()[0]}: {answer}")
        return reply


class Session:
    """Drives one call: the dialog's replies become AGI commands, answers become events."""

    def __init__(self, channel: AgiChannel) -> None:
        self.channel = channel
        self.call_id = ""
        self.caller = ""
        self.speech = False

    def run(self) -> None:
        variables = self.channel.variables()
        self.call_id = variables.get("agi_uniqueid", "")
        if not self.call_id:
            raise AgiError("no agi_uniqueid in the AGI variables")
        caller = variables.get("agi_callerid", "")
        self.caller = "" if caller.lower() in ("unknown", "anonymous") else caller
        try:
            self._check(self.channel.command("ANSWER"))
            self.speech = self._start_speech()
            reply = self._handle(Event(EventKind.START))
            while True:
                self._say(reply.parts)
                if reply.action is Action.TRANSFER:
                    self._transfer()
                    return
                if reply.action is Action.HANGUP:
                    self.channel.command("HANGUP")
                    return
                reply = self._handle(self._listen(reply.collect))
        except HungUp:
            self._handle(Event(EventKind.HANGUP))
        except Exception:  # the PBX refused a command, the connection broke, or a bug of ours
            logger.exception("call %s: the AGI session broke off", self.call_id)
            services.fail_call(
                adapter=PhoneCall.Adapter.AGI, call_id=self.call_id, event=Event(EventKind.HANGUP)
            )

    def _handle(self, event: Event) -> Reply:
        return services.handle_event(
            adapter=PhoneCall.Adapter.AGI, call_id=self.call_id, event=event, caller=self.caller
        )

    @staticmethod
    def _check(reply: AgiReply) -> AgiReply:
        if reply.result == "-1":  # the command failed because the channel went away
            raise HungUp
        return reply

    def _start_speech(self) -> bool:
        engine = settings.VOICE_AGI_SPEECH_ENGINE
        if not engine:
            return False
        if self.channel.command(f"SPEECH CREATE {quote(engine)}").result != "1":
            logger.warning(
                "call %s: speech engine %s not available, keypad only", self.call_id, engine
            )
            return False
        grammar = settings.VOICE_AGI_SPEECH_GRAMMAR
        if (
            grammar
            and self.channel.command(f"SPEECH ACTIVATE GRAMMAR {quote(grammar)}").result != "1"
        ):
            logger.warning("call %s: grammar %s not activated, keypad only", self.call_id, grammar)
            return False
        return True

    def _say(self, parts: tuple[Part, ...]) -> None:
        for kind, value in parts:
            if kind == "digits":
                self._check(self.channel.command(f'SAY DIGITS {value} ""'))
            elif value.strip():
                app = settings.VOICE_AGI_TTS_APP
                reply = self._check(self.channel.command(f"EXEC {app} {tts_argument(value)}"))
                if reply.result == "-2":
                    raise AgiError(f"the PBX has no application {app} (VOICE_AGI_TTS_APP)")

    def _listen(self, collect: Collect | None) -> Event:
        collect = collect or Collect(max_digits=1)
        if self.speech:
            reply = self.channel.command(f"SPEECH RECOGNIZE {SILENCE_FILE} {collect.timeout}")
            if reply.result == "1" and reply.data == "speech":
                heard = reply.values.get("text0", "").strip()
                return Event(EventKind.INPUT, text=heard) if heard else Event(EventKind.NO_INPUT)
            if reply.result == "1" and reply.data == "digit":  # the caller started typing
                first = reply.values.get("digit", "")
                rest = self._keypad(collect, collect.max_digits - 1) if first != "#" else ""
                return self._typed(first + rest)
            if reply.result == "1" and reply.data == "timeout":
                return Event(EventKind.NO_INPUT)
            if reply.result == "1" and reply.data == "hangup":
                raise HungUp
            logger.warning("call %s: speech recognition failed, keypad instead", self.call_id)
        return self._typed(self._keypad(collect, collect.max_digits))

    def _keypad(self, collect: Collect, max_digits: int) -> str:
        if max_digits <= 0:
            return ""
        timeout_ms = collect.timeout * 1000
        reply = self._check(
            self.channel.command(f"GET DATA {SILENCE_FILE} {timeout_ms} {max_digits}")
        )
        return reply.result

    @staticmethod
    def _typed(keys: str) -> Event:
        if not keys.strip("#"):
            return Event(EventKind.NO_INPUT)
        return Event(EventKind.INPUT, digits=keys)

    def _transfer(self) -> None:
        extension = settings.VOICE_OPERATOR_EXTENSION
        if not extension:  # the dialplan after AGI() connects the operator
            return
        self.channel.command(f"EXEC Dial {quote(extension)}")


class _Connection(socketserver.StreamRequestHandler):
    timeout = 3600  # seconds without a byte from the PBX; a transferred call may talk long

    def handle(self) -> None:
        try:
            Session(AgiChannel(self.rfile, self.wfile)).run()
        except HungUp:
            logger.warning(
                "FastAGI connection from %s closed before a call began", self.client_address[0]
            )
        except (AgiError, OSError):
            logger.exception("FastAGI session from %s ended abnormally", self.client_address[0])
        finally:
            connections.close_all()  # this thread's database connections


class FastAgiServer(socketserver.ThreadingTCPServer):
    """A thread per call. `serve_forever()` runs it; `shutdown()` stops it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _Connection)
