"""The FastAGI server's defences (a security review): only the PBX may connect, a line, a variable
block and a reply are read with bounds, the calls served at once are counted, and a silent
connection is closed. Each attack is played against the real server started on a free port."""

import logging
import socket
import threading
import time
from contextlib import contextmanager, suppress

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from meters.models import PhoneCall
from meters.voice.fastagi import (
    MAX_LINE_BYTES,
    MAX_REPLY_LINES,
    MAX_VARIABLES,
    FastAgiServer,
    allowed_networks,
)
from tests.meters.voice.conftest import IN_WINDOW, OPERATOR
from tests.meters.voice.test_fastagi import UNIQUEID, ScriptedPbx

LOGGER = "meters.voice.fastagi"


@contextmanager
def running(**options):
    """A FastAGI server on a free port of 127.0.0.1, serving in a thread."""
    with (
        time_machine.travel(IN_WINDOW, tick=False),
        FastAgiServer("127.0.0.1", 0, **options) as agi,
    ):
        thread = threading.Thread(target=agi.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield agi
        finally:
            agi.shutdown()


@pytest.fixture
def agi(transactional_db):
    with running() as server:
        yield server


def closed_by_server(sock: socket.socket, within: float = 5) -> bool:
    """Whether the server closes the connection (EOF or a reset) without sending anything."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def wait_until(condition, within: float = 5) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def forged_variables(callerid: str = "79180000000") -> bytes:
    return (f"agi_network: yes\nagi_uniqueid: {UNIQUEID}\nagi_callerid: {callerid}\n\n").encode()


# --- Only the PBX may connect ------------------------------------------------------------------


def test_a_client_not_in_the_allow_list_is_refused_at_once(transactional_db, settings, caplog):
    settings.VOICE_AGI_ALLOWED_IPS = ["10.0.5.7", "192.168.40.0/24"]
    with running() as server, caplog.at_level(logging.WARNING, logger=LOGGER):
        with socket.create_connection(server.server_address, timeout=5) as sock:
            sock.sendall(forged_variables())  # a forged call, as anyone on the network could
            assert closed_by_server(sock)
        assert wait_until(lambda: server.sessions == 0)
    assert not PhoneCall.objects.exists()
    assert any(
        "refused (not in VOICE_AGI_ALLOWED_IPS)" in message and "127.0.0.1" in message
        for message in caplog.messages
    )


def test_the_allow_list_decides_by_the_peers_address(transactional_db, home, settings):
    settings.VOICE_AGI_ALLOWED_IPS = ["127.0.0.2"]  # the loopback network: a second address
    with running() as server:
        with socket.create_connection(server.server_address, timeout=5) as sock:
            assert closed_by_server(sock)  # from 127.0.0.1
        pbx = ScriptedPbx(
            server.server_address, [("keys", "0")], speech_engine=False, source="127.0.0.2"
        ).call()
    assert pbx.commands[-1] == f'EXEC Dial "{OPERATOR}"'
    assert PhoneCall.objects.get().outcome == "transferred"


def test_a_network_in_the_allow_list_admits_its_addresses(transactional_db, home, settings):
    settings.VOICE_AGI_ALLOWED_IPS = ["10.0.5.0/28", "127.0.0.0/30"]
    with running() as server:
        ScriptedPbx(server.server_address, [("keys", "0")], speech_engine=False).call()
    assert PhoneCall.objects.get().outcome == "transferred"


def test_an_empty_allow_list_refuses_everyone(transactional_db, settings):
    settings.VOICE_AGI_ALLOWED_IPS = []
    with running() as server, socket.create_connection(server.server_address) as sock:
        sock.sendall(forged_variables())
        assert closed_by_server(sock)
    assert not PhoneCall.objects.exists()


def test_an_allow_list_entry_that_is_no_address_stops_the_server_from_starting():
    with pytest.raises(ImproperlyConfigured, match=r"asterisk\.local"):
        allowed_networks(["10.0.5.7", "asterisk.local"])


def test_ipv4_mapped_and_ipv6_peers_are_matched():
    with FastAgiServer("127.0.0.1", 0, allowed_ips=["10.0.5.7", "fd00:5::/64"]) as server:
        assert server.verify_request(None, ("::ffff:10.0.5.7", 1, 0, 0))  # dual-stack socket
        assert server.verify_request(None, ("fd00:5::12", 1, 0, 0))
        assert not server.verify_request(None, ("::ffff:10.0.5.8", 1, 0, 0))
        assert not server.verify_request(None, ("fd00:6::12", 1, 0, 0))
        assert not server.verify_request(None, ("10.0.5.70", 1))


# --- Bounded reads -----------------------------------------------------------------------------


def test_a_line_without_a_newline_is_not_held_beyond_the_limit(agi, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        with socket.create_connection(agi.server_address, timeout=5) as sock:
            sock.sendall(b"agi_network: yes\nagi_request: ")
            with suppress(BrokenPipeError, ConnectionResetError):  # closed already: fine
                sock.sendall(b"x" * (MAX_LINE_BYTES * 4))  # no newline, ever
            assert closed_by_server(sock)
        assert wait_until(lambda: agi.sessions == 0)
    assert any(f"a line longer than {MAX_LINE_BYTES} bytes" in m for m in caplog.messages)
    assert not PhoneCall.objects.exists()


def test_an_endless_variable_block_is_refused(agi):
    block = "".join(f"agi_arg_{n}: {n}\n" for n in range(MAX_VARIABLES * 5)).encode()
    with socket.create_connection(agi.server_address, timeout=5) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):  # closed already: fine
            sock.sendall(block)
        assert closed_by_server(sock)
    assert not PhoneCall.objects.exists()


def flood_the_call(address, flood: bytes) -> bool:
    """Start a call, answer its first command with the flood; whether the server hung up."""
    with socket.create_connection(address, timeout=5) as sock:
        stream = sock.makefile("rwb")
        stream.write(forged_variables("79181234567"))
        stream.flush()
        assert stream.readline() == b"ANSWER\n"
        with suppress(BrokenPipeError, ConnectionResetError):  # closed already: fine
            sock.sendall(flood)
        return closed_by_server(sock)


@pytest.mark.parametrize(
    "flood",
    [
        b"200 result=" + b"1" * (MAX_LINE_BYTES * 4),
        b"HANGUP\n" * (MAX_REPLY_LINES * 5),
        b"520-Invalid command syntax.  Proper usage follows:\n" + b"usage\n" * MAX_REPLY_LINES * 5,
    ],
    ids=["long-reply", "endless-hangups", "endless-usage"],
)
def test_a_flooded_reply_ends_the_call_as_failed(agi, home, flood):
    assert flood_the_call(agi.server_address, flood)
    assert wait_until(lambda: agi.sessions == 0)
    assert PhoneCall.objects.get().outcome == "failed"


# --- Concurrent sessions -----------------------------------------------------------------------


def test_connections_beyond_the_limit_are_refused_until_a_session_ends(
    transactional_db, home, settings, caplog
):
    settings.VOICE_AGI_MAX_SESSIONS = 2
    with running() as server, caplog.at_level(logging.WARNING, logger=LOGGER):
        idle = [socket.create_connection(server.server_address, timeout=5) for _ in range(2)]
        assert wait_until(lambda: server.sessions == 2)
        for _ in range(3):  # more, as an attacker would open
            with socket.create_connection(server.server_address, timeout=5) as extra:
                assert closed_by_server(extra)
        assert server.sessions == 2
        assert not closed_by_server(idle[0], within=0.2)  # the sessions held are still served

        idle[0].close()
        assert wait_until(lambda: server.sessions == 1)
        pbx = ScriptedPbx(server.server_address, [("keys", "0")], speech_engine=False).call()
        assert pbx.commands[-1] == f'EXEC Dial "{OPERATOR}"'
        idle[1].close()
        assert wait_until(lambda: server.sessions == 0)
    assert any("2 calls are being served already" in m for m in caplog.messages)
    assert PhoneCall.objects.get().outcome == "transferred"


def test_many_idle_connections_hold_no_more_threads_than_the_limit(transactional_db, settings):
    settings.VOICE_AGI_MAX_SESSIONS = 3
    threads_before = threading.active_count()
    with running() as server:
        held = [socket.create_connection(server.server_address, timeout=5) for _ in range(12)]
        try:
            assert sum(closed_by_server(sock, within=0.5) for sock in held) == 9
            assert server.sessions == 3
            # the server's own thread, and one per admitted session
            assert threading.active_count() <= threads_before + 1 + 3
        finally:
            for sock in held:
                sock.close()
        assert wait_until(lambda: server.sessions == 0)


# --- Idle connections --------------------------------------------------------------------------


def test_a_silent_connection_is_closed_after_the_idle_timeout(transactional_db, settings, caplog):
    settings.VOICE_AGI_IDLE_TIMEOUT = 0.3
    with running() as server, caplog.at_level(logging.WARNING, logger=LOGGER):
        with socket.create_connection(server.server_address, timeout=5) as sock:
            started = time.monotonic()
            assert closed_by_server(sock)  # nothing sent at all
            assert time.monotonic() - started < 3
        assert wait_until(lambda: server.sessions == 0)
    assert any("nothing sent for 0.3 s" in m for m in caplog.messages)


def test_a_pbx_that_stops_answering_mid_call_is_closed_and_the_call_failed(
    transactional_db, home, settings
):
    settings.VOICE_AGI_IDLE_TIMEOUT = 0.3
    with running() as server:
        with socket.create_connection(server.server_address, timeout=5) as sock:
            stream = sock.makefile("rwb")
            stream.write(forged_variables("79181234567"))
            stream.flush()
            assert stream.readline() == b"ANSWER\n"  # and no reply from here on
            assert closed_by_server(sock)
        assert wait_until(lambda: server.sessions == 0)
    assert PhoneCall.objects.get().outcome == "failed"


class SlowOperatorPbx(ScriptedPbx):
    """Dial returns when the caller's talk with the operator ends, here after `talk` seconds."""

    def __init__(self, *args, talk: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.talk_seconds = talk

    def reply(self, command: str) -> str:
        if command.startswith("EXEC Dial"):
            time.sleep(self.talk_seconds)
        return super().reply(command)


def test_a_talk_with_the_operator_outlasts_the_idle_timeout(transactional_db, home, settings):
    settings.VOICE_AGI_IDLE_TIMEOUT = 0.3
    with running() as server:
        pbx = SlowOperatorPbx(
            server.server_address, [("keys", "0")], speech_engine=False, talk=1.0
        ).call()
        assert wait_until(lambda: server.sessions == 0)
    assert pbx.commands[-1] == f'EXEC Dial "{OPERATOR}"'
    call = PhoneCall.objects.get()
    assert call.outcome == "transferred"
    assert not call.turns.filter(problem="failed").exists()


def test_bad_limits_stop_the_server_from_starting(transactional_db, settings):
    settings.VOICE_AGI_MAX_SESSIONS = 0
    with pytest.raises(ImproperlyConfigured):
        FastAgiServer("127.0.0.1", 0)


# --- Numbers beyond any account or reading, through the PBX's recogniser -------------------


def test_a_recognised_number_of_thousands_of_digits_is_asked_again(agi, home, settings):
    settings.VOICE_AGI_SPEECH_ENGINE = "unimrcp"
    pbx = ScriptedPbx(agi.server_address, [("say", "1" * 5000), ("hangup",)]).call()
    assert "Я услышал слишком много цифр." in pbx.transcript
    assert PhoneCall.objects.get().outcome == "hung_up"
