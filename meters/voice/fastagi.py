"""The phone line for Asterisk: a FastAGI server driving the dialog (docs/phone-line.md §6).

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

Anyone who can connect drives the dialog (and names the caller), so the server trusts only the
PBX and bounds what a connection may hold:

- only addresses in VOICE_AGI_ALLOWED_IPS (addresses or networks) are served; any other
  connection is closed at once, before a thread is started, and logged;
- at most VOICE_AGI_MAX_SESSIONS calls are served at once; further connections are closed at
  once and logged (AGI() fails and the dialplan goes on after it: put the operator there);
- a line longer than MAX_LINE_BYTES, more than MAX_VARIABLES `agi_*` variables or more than
  MAX_REPLY_LINES lines in one reply end the session;
- VOICE_AGI_IDLE_TIMEOUT seconds without a byte from the PBX end the session, except while the
  caller talks to the operator (`EXEC Dial`), which waits up to TRANSFER_TIMEOUT_S.

Bind the server to the telephony network only (`--host`), and set the allow-list.
"""

import ipaddress
import logging
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from meters.models import PhoneCall
from meters.voice import services
from meters.voice.dialog import Action, Collect, Event, EventKind, Part, Reply

logger = logging.getLogger(__name__)

SILENCE_FILE = "silence/1"  # played while waiting for an answer (Asterisk's core sounds)
# Asterisk's own AGI buffer is 2 KiB; a recognised phrase (text0="...") fits many times over.
MAX_LINE_BYTES = 8192
MAX_VARIABLES = 200  # Asterisk sends about 20 `agi_*` variables, plus one per AGI() argument
MAX_REPLY_LINES = 100  # HANGUP notices and a 520 usage text before the reply itself
TRANSFER_TIMEOUT_S = 4 * 3600  # the caller talks to the operator while `EXEC Dial` runs
_REPLY = re.compile(r"^(?P<code>\d{3})[ -](?:result=(?P<result>\S*))?(?P<rest>.*)$")
_DATA = re.compile(r"^\s*\((?P<data>[^)]*)\)")
_PAIR = re.compile(r'(?P<key>\w+)=(?:"(?P<quoted>[^"]*)"|(?P<bare>\S*))')


class AgiError(Exception):
    """The PBX refused a command (510 unknown command, 520 bad syntax)."""


class HungUp(Exception):  # noqa: N818 - the event it stands for
    """The caller has gone: the channel is dead or the connection closed."""


class TooMuchInput(AgiError):  # noqa: N818 - AgiError's family
    """The peer sent a line, a variable block or a reply beyond the server's bounds."""


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
    """One AGI session: the variables, then commands out and replies in.

    Every line is read with a bound (MAX_LINE_BYTES): a longer one raises TooMuchInput instead
    of being held in memory. `set_timeout`, when given, changes the connection's idle timeout
    (seconds) for one command, as `command(..., timeout=...)` asks."""

    def __init__(
        self,
        reader: BinaryIO,
        writer: BinaryIO,
        *,
        set_timeout: Callable[[float | None], None] | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.set_timeout = set_timeout
        self.idle_timeout = idle_timeout
        self.hung_up = False

    def _line(self) -> str:
        raw = self.reader.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise HungUp
        if len(raw) > MAX_LINE_BYTES:
            raise TooMuchInput(f"a line longer than {MAX_LINE_BYTES} bytes")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def variables(self) -> dict[str, str]:
        """The `agi_*` block that opens the session."""
        found: dict[str, str] = {}
        while line := self._line():
            if len(found) >= MAX_VARIABLES:
                raise TooMuchInput(f"more than {MAX_VARIABLES} AGI variables")
            name, _, value = line.partition(":")
            found[name.strip()] = value.strip()
        return found

    def command(self, line: str, *, timeout: float | None = None) -> AgiReply:
        """Send one command and read its reply; `timeout` replaces the idle timeout for it."""
        if self.hung_up:
            raise HungUp
        if timeout is not None and self.set_timeout is not None:
            self.set_timeout(timeout)
        try:
            return self._command(line)
        finally:
            if timeout is not None and self.set_timeout is not None:
                self.set_timeout(self.idle_timeout)

    def _command(self, line: str) -> AgiReply:
        self.writer.write(line.encode() + b"\n")
        self.writer.flush()
        lines = self._reply_lines()
        while True:
            answer = next(lines)
            if answer.strip() == "HANGUP":  # sent by Asterisk when the caller hangs up
                self.hung_up = True
                continue
            if answer.startswith("520-"):  # usage text follows, up to "520 End of ..."
                while not next(lines).startswith("520 "):
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

    def _reply_lines(self) -> Iterator[str]:
        """The lines of one reply, at most MAX_REPLY_LINES of them."""
        for _ in range(MAX_REPLY_LINES):
            yield self._line()
        raise TooMuchInput(f"a reply of more than {MAX_REPLY_LINES} lines")


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
        # The reply comes when the caller's talk with the operator ends: no idle timeout.
        self.channel.command(f"EXEC Dial {quote(extension)}", timeout=TRANSFER_TIMEOUT_S)


class _Connection(socketserver.StreamRequestHandler):
    server: "FastAgiServer"

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # seconds without a byte from the PBX
        super().setup()

    def handle(self) -> None:
        peer = self.client_address[0]
        channel = AgiChannel(
            self.rfile,
            self.wfile,
            set_timeout=self.connection.settimeout,
            idle_timeout=self.timeout,
        )
        try:
            Session(channel).run()
        except HungUp:
            logger.warning("FastAGI connection from %s closed before a call began", peer)
        except TooMuchInput as error:
            logger.warning("FastAGI connection from %s closed: %s", peer, error)
        except TimeoutError:
            logger.warning(
                "FastAGI connection from %s closed: nothing sent for %s s", peer, self.timeout
            )
        except (AgiError, OSError):
            logger.exception("FastAGI session from %s ended abnormally", peer)
        finally:
            connections.close_all()  # this thread's database connections


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """VOICE_AGI_ALLOWED_IPS as networks: "10.0.5.7" (one address) or "10.0.5.0/28"."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"VOICE_AGI_ALLOWED_IPS: {entry!r} is not an IP address or network"
            ) from error
    return tuple(networks)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # no IPv6 zone
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # "::ffff:10.0.5.7" on a dual-stack socket
    return address


class FastAgiServer(socketserver.ThreadingTCPServer):
    """A thread per call. `serve_forever()` runs it; `shutdown()` stops it.

    The allow-list, the number of concurrent sessions and the idle timeout come from the
    VOICE_AGI_* settings when the server is created, unless given here."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        host: str,
        port: int,
        *,
        allowed_ips: Iterable[str] | None = None,
        max_sessions: int | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        entries = settings.VOICE_AGI_ALLOWED_IPS if allowed_ips is None else allowed_ips
        self.allowed = allowed_networks(entries)
        self.max_sessions = (
            settings.VOICE_AGI_MAX_SESSIONS if max_sessions is None else max_sessions
        )
        self.idle_timeout = (
            settings.VOICE_AGI_IDLE_TIMEOUT if idle_timeout is None else idle_timeout
        )
        if self.max_sessions < 1 or self.idle_timeout <= 0:
            raise ImproperlyConfigured(
                "VOICE_AGI_MAX_SESSIONS and VOICE_AGI_IDLE_TIMEOUT must be positive"
            )
        if not self.allowed:
            logger.warning("FastAGI: VOICE_AGI_ALLOWED_IPS is empty, every connection is refused")
        self._sessions = 0
        self._sessions_lock = threading.Lock()
        super().__init__((host, port), _Connection)

    @property
    def sessions(self) -> int:
        """The calls being served now."""
        return self._sessions

    def verify_request(self, request: socket.socket, client_address: tuple[str, int]) -> bool:
        """Only the PBX may connect; anyone else is closed at once (socketserver does that)."""
        address = _address(client_address[0])
        if address is not None and any(address in network for network in self.allowed):
            return True
        logger.warning(
            "FastAGI: a connection from %s refused (not in VOICE_AGI_ALLOWED_IPS)",
            client_address[0],
        )
        return False

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        """Start a session's thread, unless VOICE_AGI_MAX_SESSIONS calls are being served."""
        with self._sessions_lock:
            full = self._sessions >= self.max_sessions
            if not full:
                self._sessions += 1
        if full:
            logger.warning(
                "FastAGI: a connection from %s refused: %s calls are being served already",
                client_address[0],
                self.max_sessions,
            )
            self.shutdown_request(request)  # the dialplan goes on after AGI()
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # the thread did not start: its slot is free again
            self._release()
            raise

    def process_request_thread(
        self, request: socket.socket, client_address: tuple[str, int]
    ) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self._sessions_lock:
            self._sessions -= 1
