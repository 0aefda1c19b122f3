"""The FastAGI server, end to end: a scripted PBX speaks the AGI protocol over TCP to the real
server started on a free port, and the readings land in the database (docs/phone-line.md §6)."""

import socket
import threading
from decimal import Decimal

import pytest
import time_machine

from meters.models import MeterReading, PhoneCall
from meters.voice.fastagi import AgiError, FastAgiServer, parse_reply
from meters.voice.numbers import digits_to_speech
from tests.meters.voice.conftest import IN_WINDOW, OPERATOR

UNIQUEID = "1763643600.42"


@pytest.fixture
def server(transactional_db):
    with time_machine.travel(IN_WINDOW, tick=False), FastAgiServer("127.0.0.1", 0) as agi:
        thread = threading.Thread(target=agi.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield agi.server_address
        agi.shutdown()


def agi_arguments(line: str) -> list[str]:
    """A command line split the way Asterisk's res_agi.c parse_args does: double quotes group,
    a backslash makes the next character literal."""
    args: list[str] = []
    current, quoted, escaped, started = "", False, False, False
    for char in line:
        if escaped:
            current, escaped, started = current + char, False, True
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted, started = not quoted, True
        elif char in " \t" and not quoted:
            if started:
                args.append(current)
            current, started = "", False
        else:
            current, started = current + char, True
    if started:
        args.append(current)
    return args


class ScriptedPbx:
    """Asterisk's side of one FastAGI session. The caller's answers are consumed in order by
    GET DATA and SPEECH RECOGNIZE: ("keys", "123"), ("say", "да"), ("silence",), ("hangup",).
    Everything the server makes the PBX say is kept in `heard`."""

    def __init__(
        self, address, answers, *, speech_engine=True, callerid="79181234567", source=None
    ):
        self.address = address
        self.source = source  # the PBX's own address, when not the default one
        self.answers = list(answers)
        self.speech_engine = speech_engine
        self.callerid = callerid
        self.commands: list[str] = []
        self.heard: list[str] = []
        self.dead = False
        self.pending_keys = ""  # typed after a digit interrupted speech recognition

    def call(self) -> "ScriptedPbx":
        source = (self.source, 0) if self.source else None
        with socket.create_connection(self.address, timeout=10, source_address=source) as sock:
            stream = sock.makefile("rwb")
            variables = {
                "agi_network": "yes",
                "agi_network_script": "readings",
                "agi_request": f"agi://{self.address[0]}:{self.address[1]}/readings",
                "agi_channel": "PJSIP/trunk-00000017",
                "agi_language": "ru",
                "agi_type": "PJSIP",
                "agi_uniqueid": UNIQUEID,
                "agi_version": "20.5.0",
                "agi_callerid": self.callerid,
                "agi_calleridname": "unknown",
                "agi_callingpres": "0",
                "agi_dnid": "2000001",
                "agi_context": "from-trunk",
                "agi_extension": "2000001",
                "agi_priority": "1",
                "agi_enhanced": "0.0",
                "agi_accountcode": "",
                "agi_threadid": "140245122455104",
            }
            block = "".join(f"{name}: {value}\n" for name, value in variables.items()) + "\n"
            stream.write(block.encode())
            stream.flush()
            while line := stream.readline():  # until the server closes the session
                command = line.decode().rstrip("\n")
                self.commands.append(command)
                stream.write(self.reply(command).encode())
                stream.flush()
        return self

    def next_answer(self):
        assert self.answers, f"the server asked for more answers after {self.commands[-3:]}"
        return self.answers.pop(0)

    def reply(self, command: str) -> str:
        args = agi_arguments(command)
        name = " ".join(args[:2]).upper()
        if self.dead:
            return "511 Command Not Permitted on a dead channel or intercept routine\n"
        if args[0] == "ANSWER":
            return "200 result=0\n"
        if args[0] == "EXEC" and args[1] == "Festival":
            self.heard.append(args[2].replace("\\,", ","))  # the application unescapes commas
            return "200 result=0\n"
        if args[0] == "EXEC" and args[1] == "Dial":
            return "200 result=0\n"
        if args[0] == "EXEC":
            return "200 result=-2\n"  # no such application
        if name == "SAY DIGITS":
            self.heard.append(digits_to_speech(args[2]))
            return "200 result=0\n"
        if name == "GET DATA":
            if self.pending_keys:
                keys, self.pending_keys = self.pending_keys, ""
                return f"200 result={keys}\n"
            return self.keypad(self.next_answer(), int(args[4]))
        if name == "SPEECH CREATE":
            return "200 result=1\n" if self.speech_engine else "200 result=0\n"
        if command.startswith("SPEECH ACTIVATE GRAMMAR"):
            return "200 result=1\n"
        if name == "SPEECH RECOGNIZE":
            return self.recognise(self.next_answer())
        if args[0] == "HANGUP":
            self.dead = True
            return "200 result=1\n"
        return "510 Invalid or unknown command\n"

    def keypad(self, answer, max_digits) -> str:
        kind, *value = answer
        if kind == "keys":
            typed = value[0]
            keys = typed.split("#")[0][:max_digits]  # "#" ends the input and is not returned
            return f"200 result={keys}\n"
        if kind == "silence":
            return "200 result= (timeout)\n"
        if kind == "hangup":
            self.dead = True
            return "HANGUP\n200 result=-1\n"
        raise AssertionError(f"GET DATA cannot hear {answer}")

    def recognise(self, answer) -> str:
        kind, *value = answer
        if kind == "say":
            return (
                f'200 result=1 (speech) endpos=0 results=1 score0=912 text0="{value[0]}" '
                "grammar0=numbers\n"
            )
        if kind == "keys":
            first, self.pending_keys = value[0][0], value[0][1:].split("#")[0]
            return f"200 result=1 (digit) digit={first} endpos=1520\n"
        if kind == "silence":
            return "200 result=1 (timeout) endpos=0\n"
        if kind == "hangup":
            self.dead = True
            return "HANGUP\n200 result=1 (hangup) endpos=0\n"
        raise AssertionError(f"SPEECH RECOGNIZE cannot hear {answer}")

    @property
    def transcript(self) -> str:
        return " ".join(self.heard)


def accepted():
    return {
        (r.meter.serial, r.value, r.channel)
        for r in MeterReading.objects.select_related("meter").filter(status="accepted")
    }


def test_a_keypad_call_stores_the_readings(server, home):
    pbx = ScriptedPbx(
        server,
        [
            *[("keys", home.number + "#"), ("keys", "1")],
            *[("keys", "123*5#"), ("keys", "1")],
            *[("keys", "215#"), ("keys", "1")],
        ],
        speech_engine=False,
    ).call()

    assert pbx.commands[0] == "ANSWER"
    assert "GET DATA silence/1 7000 10" in pbx.commands
    assert "GET DATA silence/1 7000 9" in pbx.commands  # a reading: 5 digits, "*", 3 decimals
    assert 'SAY DIGITS 457 ""' in pbx.commands  # the cold meter's serial tail, recorded digits
    assert f'SAY DIGITS {home.number[:3]} ""' in pbx.commands
    assert pbx.commands[-1] == "HANGUP"
    assert "Показание принято и сохранено." in pbx.transcript
    assert pbx.heard[-1] == "Спасибо за звонок! До свидания."

    assert accepted() == {
        ("СВ-700457", Decimal("123.500"), "phone"),
        ("ГВ-800123", Decimal("215.000"), "phone"),
    }
    call = PhoneCall.objects.get()
    assert (call.adapter, call.call_id, call.caller, call.outcome) == (
        "agi",
        UNIQUEID,
        "79181234567",
        "completed",
    )
    assert call.readings_stored == 2


def test_prompts_go_to_the_synthesiser_with_commas_escaped(server, home):
    pbx = ScriptedPbx(server, [("hangup",)], speech_engine=False).call()
    exec_lines = [c for c in pbx.commands if c.startswith("EXEC Festival")]
    assert exec_lines[0] == (
        'EXEC Festival "Здравствуйте! Это автоматическая линия приёма показаний счётчиков воды."'
    )
    assert any("\\\\," in line for line in exec_lines)  # Asterisk splits app arguments at ","
    assert pbx.heard[1].startswith("Чтобы поговорить с оператором, скажите «оператор»")


def test_a_speech_call_with_a_digit_typed_during_recognition(server, home, settings):
    settings.VOICE_AGI_SPEECH_ENGINE = "unimrcp"
    settings.VOICE_AGI_SPEECH_GRAMMAR = "numbers"
    pbx = ScriptedPbx(
        server,
        [
            ("say", f"лицевой счёт {home.spoken}"),
            ("say", "да"),
            ("keys", "105#"),  # typed: "1" interrupts recognition, GET DATA reads "05"
            ("say", "да"),
            ("say", "пропустить"),
        ],
    ).call()

    assert 'SPEECH CREATE "unimrcp"' in pbx.commands
    assert 'SPEECH ACTIVATE GRAMMAR "numbers"' in pbx.commands
    assert "SPEECH RECOGNIZE silence/1 7" in pbx.commands
    assert "GET DATA silence/1 7000 8" in pbx.commands  # the rest after the first digit
    assert "Показание сто пять кубометров." in pbx.transcript
    assert accepted() == {("СВ-700457", Decimal("105.000"), "phone")}
    assert PhoneCall.objects.get().outcome == "completed"


def test_without_a_speech_engine_the_keypad_is_used(server, home, settings):
    settings.VOICE_AGI_SPEECH_ENGINE = "lumenvox"
    pbx = ScriptedPbx(server, [("keys", "0")], speech_engine=False).call()
    assert 'SPEECH CREATE "lumenvox"' in pbx.commands
    assert not any(c.startswith("SPEECH RECOGNIZE") for c in pbx.commands)
    assert "GET DATA silence/1 7000 10" in pbx.commands


def test_a_hang_up_mid_call_stores_nothing_and_is_logged(server, home):
    pbx = ScriptedPbx(
        server,
        [("keys", home.number), ("keys", "1"), ("keys", "123"), ("hangup",)],
        speech_engine=False,
    ).call()
    assert "Показание сто двадцать три кубометра." in pbx.transcript
    assert "HANGUP" not in pbx.commands  # the caller left first
    assert not MeterReading.objects.exists()
    call = PhoneCall.objects.get()
    assert (call.outcome, call.readings_stored) == ("hung_up", 0)
    assert call.turns.order_by("-n").first().event == "hangup"


def test_a_hang_up_reported_during_speech_recognition(server, home, settings):
    settings.VOICE_AGI_SPEECH_ENGINE = "unimrcp"
    ScriptedPbx(server, [("say", home.spoken), ("hangup",)]).call()
    assert PhoneCall.objects.get().outcome == "hung_up"


def test_the_operator_is_dialled_on_zero(server, home):
    pbx = ScriptedPbx(server, [("keys", "0")], speech_engine=False).call()
    assert pbx.commands[-1] == f'EXEC Dial "{OPERATOR}"'
    assert pbx.heard[-1] == "Соединяю с оператором, подождите, пожалуйста."
    assert PhoneCall.objects.get().outcome == "transferred"


def test_without_an_operator_extension_the_dialplan_continues(server, home, settings):
    settings.VOICE_OPERATOR_EXTENSION = ""
    pbx = ScriptedPbx(server, [("keys", "0")], speech_engine=False).call()
    assert not any(c.startswith("EXEC Dial") for c in pbx.commands)
    assert "HANGUP" not in pbx.commands
    assert PhoneCall.objects.get().outcome == "transferred"


def test_silence_is_asked_again_then_the_operator_is_dialled(server, home):
    pbx = ScriptedPbx(server, [("silence",)] * 3, speech_engine=False).call()
    assert pbx.transcript.count("Я вас не слышу.") == 3
    assert pbx.commands[-1] == f'EXEC Dial "{OPERATOR}"'
    call = PhoneCall.objects.get()
    assert (call.outcome, call.retries) == ("transferred", 3)


def test_an_anonymous_caller_is_logged_without_a_number(server, home):
    ScriptedPbx(server, [("hangup",)], speech_engine=False, callerid="unknown").call()
    assert PhoneCall.objects.get().caller == ""


def test_a_missing_synthesiser_marks_the_call_failed(server, home, settings):
    settings.VOICE_AGI_TTS_APP = "NoSuchApp"  # Asterisk answers "200 result=-2"
    ScriptedPbx(server, [], speech_engine=False).call()
    assert PhoneCall.objects.get().outcome == "failed"


@pytest.mark.parametrize(
    ("line", "result", "data", "values"),
    [
        ("200 result=0", "0", "", {}),
        ("200 result=2300012345", "2300012345", "", {}),
        ("200 result= (timeout)", "", "timeout", {}),
        ("200 result=12 (timeout)", "12", "timeout", {}),
        ("200 result=-1", "-1", "", {}),
        (
            '200 result=1 (speech) endpos=3400 results=1 score0=912 text0="сто двадцать три" '
            "grammar0=numbers",
            "1",
            "speech",
            {
                "endpos": "3400",
                "results": "1",
                "score0": "912",
                "text0": "сто двадцать три",
                "grammar0": "numbers",
            },
        ),
        ("200 result=1 (digit) digit=5 endpos=0", "1", "digit", {"digit": "5", "endpos": "0"}),
        ("200 result=1 (hangup) endpos=0", "1", "hangup", {"endpos": "0"}),
    ],
)
def test_agi_replies_are_parsed(line, result, data, values):
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.values) == (200, result, data, values)


def test_a_line_that_is_no_reply_is_an_error():
    with pytest.raises(AgiError):
        parse_reply("Hello")
