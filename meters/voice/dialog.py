"""The phone line's dialog (docs/phone-line.md §2): a state machine independent of telephony.

An adapter (the HTTP webhook, the FastAGI server) turns what the platform reports into an
`Event` (start, input with recognised text and/or keypad digits, no input, hang-up), hands it to
`Dialog.handle` and carries out the `Reply`: say its parts, collect the next answer as `collect`
describes, then continue, transfer to an operator or hang up. Between events the dialog lives in
a `State`, which is plain JSON (`to_json`/`from_json`), so the webhook keeps it in the call's row.

The steps:

1. greeting (or, outside the reading window, when readings are taken, and goodbye);
2. the account number, said or typed: parsed, its check digit verified, read back in groups,
   confirmed by "да"/"нет" or keypad 1/2, then looked up;
3. for each working meter of the account, announced by its kind and the last three digits of
   its serial: the reading, read back, confirmed, stored through the backend (submit_reading on
   the "phone" channel), and the result said at once: stored, or the reason in words and a
   chance to say it again (an unusually large consumption is confirmed on the spot);
4. a summary of what was stored, and goodbye.

A "нет" to a read-back that carries the right number ("нет, восемьдесят девять", "ой,
восемьдесят девять", "не восемьдесят семь, а восемьдесят девять") rejects the read-back and
reads the new number back for confirmation, instead of losing it. A "да" with a different number
("да, восемьдесят девять" to eighty-seven) is unclear and asked again: nothing is stored on it.

Every failed attempt at a question (silence, not understood, "нет" to a read-back, a refused
reading) re-asks it; the third transfers the call to an operator, as does "оператор" or keypad 0
at any question. A hang-up ends the call where it is: a reading is stored only after its "да",
and each stored reading has already been confirmed to the caller, so nothing is left half done.

The dialog reads and writes nothing itself: account look-up, the meter list and the storing of a
reading go through a `Backend` (meters/voice/services.py has the one over the ORM).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from accounts.validators import is_valid_account_number
from meters.voice.numbers import (
    NotUnderstood,
    digits_to_speech,
    has_correction,
    normalise,
    parse_digits,
    parse_reading,
    parse_yes_no,
    reading_to_speech,
)
from vodokanal.common.russian import plural_ru

MAX_ATTEMPTS = 3  # failed attempts at one question before the call goes to an operator
ACCOUNT_LENGTH = 10
ACCOUNT_GROUPS = (3, 3)  # read back as 3 - 3 - 4 digits
KEYPAD_TIMEOUT_S = 7
KEYPAD_OPERATOR = "0"  # a lone 0 on the keypad
KEYPAD_DECIMAL_POINT = "*"  # "123*5#" is 123.5
KEYPAD_ANSWERS = ("1", "2")  # yes and no to a read-back


class EventKind(enum.StrEnum):
    START = "start"
    INPUT = "input"
    NO_INPUT = "no_input"
    HANGUP = "hangup"


class Action(enum.StrEnum):
    CONTINUE = "continue"
    TRANSFER = "transfer"
    HANGUP = "hangup"


class Outcome(enum.StrEnum):
    """How a call ended (the values of PhoneCall.Outcome)."""

    COMPLETED = "completed"
    TRANSFERRED = "transferred"
    HUNG_UP = "hung_up"


class Step(enum.StrEnum):
    NEW = "new"
    ACCOUNT = "account"
    ACCOUNT_CONFIRM = "account_confirm"
    READING = "reading"
    READING_CONFIRM = "reading_confirm"
    LARGE_CONFIRM = "large_confirm"
    DONE = "done"


# --- What the adapters pass in and get back -------------------------------------------------


@dataclass(frozen=True)
class Event:
    kind: EventKind
    text: str = ""  # what the recogniser heard
    digits: str = ""  # keypad digits, with or without the "#" terminator


@dataclass(frozen=True)
class Collect:
    """What to collect after the prompt: speech, or up to `max_digits` keys ended by the
    terminator; after `timeout` seconds of silence the adapter reports no input."""

    max_digits: int
    timeout: int = KEYPAD_TIMEOUT_S
    terminator: str = "#"
    kind: str = "speech_or_digits"


# One piece of a prompt: ("text", "Счётчик холодной воды") or ("digits", "457"). Digits are
# kept apart so that a PBX can say them with its own recorded digits (AGI SAY DIGITS).
Part = tuple[str, str]


def text(value: str) -> Part:
    return ("text", value)


def digits(value: str) -> Part:
    return ("digits", value)


def speech(parts: Sequence[Part]) -> str:
    """The prompt as one text for a speech synthesiser: digits in words, consecutive digit
    groups joined with a pause ("два три ноль — ноль ноль ноль — ...")."""
    out = ""
    previous = ""
    for kind, value in parts:
        said = digits_to_speech(value) if kind == "digits" else value.strip()
        if not said:
            continue
        if not out:
            out = said
        elif kind == "digits" and previous == "digits":
            out += " — " + said
        elif said[0] in ".,:;!?":
            out += said
        else:
            out += " " + said
        previous = kind
    return out


@dataclass(frozen=True)
class Reply:
    parts: tuple[Part, ...]
    collect: Collect | None
    action: Action = Action.CONTINUE
    understood: str = ""  # for the call log: the number, value or answer understood
    problem: str = ""  # for the call log: why the question is asked again (a code)
    reading_id: int | None = None  # the reading stored in this turn

    @property
    def say(self) -> str:
        return speech(self.parts)


# --- What the dialog needs from the rest of the portal --------------------------------------


@dataclass(frozen=True)
class AccountInfo:
    id: int
    closed: bool


@dataclass(frozen=True)
class MeterInfo:
    id: int
    kind: str  # "cold" | "hot"
    tail: str  # the last digits of the serial, said to tell meters apart ("" if none)
    digits: int  # digits before the decimal point


@dataclass(frozen=True)
class Submission:
    """The result of storing a reading: accepted, or refused with submit_reading's code."""

    accepted: bool
    reading_id: int | None = None
    created: bool = True  # False: the same value had already been accepted this month
    superseded: bool = False  # it replaced this month's earlier reading
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # the service's Russian message, said when no spoken form is known


@dataclass(frozen=True)
class ReadingWindow:
    is_open: bool
    first_day: int
    last_day: int


class Backend(Protocol):
    def reading_window(self) -> ReadingWindow: ...

    def find_account(self, number: str) -> AccountInfo | None: ...

    def working_meters(self, account_id: int) -> list[MeterInfo]: ...

    def submit(self, *, meter_id: int, value: Decimal, confirmed: bool) -> Submission: ...


# --- The state kept between events ----------------------------------------------------------


@dataclass
class State:
    step: Step = Step.NEW
    outcome: str = ""  # an Outcome once the call is over
    account_number: str = ""  # heard, being confirmed, then confirmed
    account_id: int | None = None
    meters: list[dict[str, Any]] = field(default_factory=list)  # MeterInfo as dicts
    meter: int = 0  # index of the meter being asked about
    value: str = ""  # the reading heard, being confirmed (a Decimal as text)
    warning: str = ""  # the large-consumption question being asked
    attempts: int = 0  # failed attempts at the current question
    retries: int = 0  # failed attempts in the whole call (statistics)
    stored: list[dict[str, Any]] = field(default_factory=list)  # {"meter", "value", "reading_id"}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> State:
        if not data:
            return cls()
        return cls(**{**data, "step": Step(data["step"])})

    @property
    def current_meter(self) -> MeterInfo:
        return MeterInfo(**self.meters[self.meter])


# --- What is said ---------------------------------------------------------------------------

GREETING = "Здравствуйте! Это автоматическая линия приёма показаний счётчиков воды."
OPERATOR_HINT = "Чтобы поговорить с оператором, скажите «оператор» или нажмите ноль."
ASK_ACCOUNT = (
    "Назовите номер лицевого счёта — десять цифр — или наберите его на телефоне и нажмите решётку."
)
YES_NO = "Верно? Скажите «да» или «нет», или нажмите 1 или 2."
SILENCE = "Я вас не слышу."
UNCLEAR_ANSWER = "Я не понял ответ."
YES_WITH_OTHER_NUMBER = "Я не понял: вы сказали «да», но назвали другое число."
KEYPAD_ACCOUNT = "Нужно набрать десять цифр номера."
KEYPAD_READING = (
    "Наберите цифры показания и нажмите решётку. Дробную часть можно отделить звёздочкой."
)
CHECK_DIGIT = "Такого номера лицевого счёта не бывает: проверьте номер по квитанции."
ACCOUNT_AGAIN = "Хорошо, назовите номер ещё раз."
ACCOUNT_NOT_FOUND = "Лицевой счёт с таким номером не найден. Проверьте номер по квитанции."
ACCOUNT_CLOSED = "Этот лицевой счёт закрыт, показания по нему не принимаются."
NO_METERS = "По этому лицевому счёту нет счётчиков, по которым сейчас принимаются показания."
SKIP_HINT = "Если показаний счётчика нет под рукой, скажите «пропустить»."
ASK_READING = "Назовите показание — кубометры до запятой — или наберите цифры и нажмите решётку."
READING_AGAIN = "Хорошо, назовите показание ещё раз."
TOO_LARGE = "Такого показания быть не может: слишком много цифр до запятой."
SKIPPED = "Счётчик пропущен."
STORED = "Показание принято и сохранено."
STORED_AGAIN = "Это показание уже было принято раньше, оно сохранено."
SUPERSEDED = "Оно заменило показание, переданное раньше в этом месяце."
LARGE_QUESTION = (
    "Если показание верное, скажите «да» или нажмите 1. Чтобы назвать другое, скажите «нет» "
    "или нажмите 2."
)
NOTHING_STORED = "Показания в этом звонке не сохранены."
GOODBYE = "Спасибо за звонок! До свидания."
TOO_MANY_ATTEMPTS = "Не получается разобрать ответ."
TRANSFER = "Соединяю с оператором, подождите, пожалуйста."
WINDOW_CLOSED = (
    "Сейчас показания не принимаются: их принимают с {first}-го по {last}-е число каждого "
    "месяца. Позвоните, пожалуйста, в эти дни."
)

KIND_NAMES = {"cold": "холодной воды", "hot": "горячей воды"}
KIND_SHORT = {"cold": "Холодная вода", "hot": "Горячая вода"}

# Refusals the caller can fix by saying the reading again; other refusals move to the next meter.
RETRYABLE = frozenset({"less_than_previous", "value_too_large", "invalid_value"})
# Why a meter takes no readings, for the refusals of its state.
METER_STATE_REASONS = {
    "meter_removed": "он снят с учёта",
    "meter_broken": "он числится неисправным",
    "verification_expired": "истёк срок его поверки",
}


def volume_speech(value: Decimal) -> str:
    """A volume in words with its unit: "сто двадцать три кубометра", "пять целых семь десятых
    кубометра", "один кубометр". Zeros after the point are not said."""
    if value != value.to_integral_value():
        return f"{reading_to_speech(value.normalize())} кубометра"
    whole = int(value)
    unit = plural_ru(whole, "кубометр", "кубометра", "кубометров")
    return f"{reading_to_speech(Decimal(whole))} {unit}"


def _volume_param(params: dict[str, Any], name: str) -> Decimal | None:
    """A volume from submit_reading's message parameters ("105,000" -> 105.000)."""
    try:
        return Decimal(str(params[name]).replace(",", ".").replace("\xa0", ""))
    except (KeyError, ArithmeticError, ValueError):
        return None


def refusal_speech(submission: Submission, value: Decimal) -> str:
    """The reason a reading was refused, in words a caller can follow (the service's message
    is written for a screen: "105,000 м³", "№ СВ-700457")."""
    code, params = submission.code, submission.params
    if code == "less_than_previous":
        previous = _volume_param(params, "previous")
        said = f", {volume_speech(previous)}" if previous is not None else ""
        return (
            f"Показание {volume_speech(value)} меньше предыдущего принятого показания{said}. "
            "Проверьте цифры до запятой."
        )
    if code == "value_too_large":
        count = int(params.get("digits", 0))
        return (
            f"У этого счётчика {reading_to_speech(Decimal(count))} "
            f"{plural_ru(count, 'цифра', 'цифры', 'цифр')} до запятой, "
            "такого показания быть не может."
        )
    if code == "needs_confirmation":
        consumption = _volume_param(params, "consumption") or Decimal(0)
        return (
            f"Расход с прошлого показания получается {volume_speech(consumption)}: "
            "это необычно много."
        )
    if code == "window_closed":
        return WINDOW_CLOSED.format(first=params.get("first"), last=params.get("last"))
    if code in METER_STATE_REASONS:
        return (
            f"Показания этого счётчика не принимаются: {METER_STATE_REASONS[code]}. "
            "Подробности можно узнать у оператора."
        )
    return f"Показание не принято. {submission.message}"


def _has_word(text_: str, prefix: str) -> bool:
    return any(word.startswith(prefix) for word in normalise(text_).split())


T = TypeVar("T")

# The parser's refusals that mean an answer to a read-back held no number at all ("нет",
# "да, верно", "нет, нет").
NO_NUMBER = frozenset({"empty", "no_numbers", "correction_without_number"})


def _number_in_answer(answer: str, parse: Callable[[str], T]) -> T | NotUnderstood | None:
    """The number said in an answer to a read-back: the parsed value, None when the answer holds
    no number (or is a key, 1 or 2, or their figure in the recognised text), or the parser's
    refusal when it holds a number that is not understood."""
    if answer.strip() in KEYPAD_ANSWERS:
        return None
    try:
        return parse(answer)
    except NotUnderstood as error:
        return None if error.code in NO_NUMBER else error


def _corrects(words: str, answer: bool | None) -> bool:
    """Whether an answer to a read-back rejects it: "нет ...", or a self-correction ("ой, ...",
    "точнее ...", "не восемьдесят семь, а ...") with no yes or no."""
    return answer is False or (answer is None and has_correction(words))


def _parse_account(words: str) -> str:
    return parse_digits(words, length=ACCOUNT_LENGTH)


# --- The machine ----------------------------------------------------------------------------


class Dialog:
    """One call's dialog: `handle` one event at a time; `state` is what to keep."""

    def __init__(self, state: State, backend: Backend) -> None:
        self.state = state
        self.backend = backend

    def handle(self, event: Event) -> Reply:
        state = self.state
        if state.step is Step.DONE:  # a late event (the platform's own hang-up) changes nothing
            return Reply((), None, Action.HANGUP)
        if event.kind is EventKind.HANGUP:
            state.step, state.outcome = Step.DONE, Outcome.HUNG_UP
            return Reply((), None, Action.HANGUP, problem="hangup")
        if state.step is Step.NEW:
            return self._greet()
        if event.kind is EventKind.START:  # the platform repeated its start: ask again
            return self._reply(self._question())

        keys = event.digits.strip().removesuffix("#")
        words = "" if keys else event.text.strip()
        if event.kind is EventKind.NO_INPUT or not (keys or words):
            return self._fail("no_input", SILENCE)
        if keys == KEYPAD_OPERATOR or _has_word(words, "оператор"):
            return self._transfer(understood="оператор")
        handler = {
            Step.ACCOUNT: self._on_account,
            Step.ACCOUNT_CONFIRM: self._on_account_confirm,
            Step.READING: self._on_reading,
            Step.READING_CONFIRM: self._on_reading_confirm,
            Step.LARGE_CONFIRM: self._on_large_confirm,
        }[state.step]
        return handler(words, keys)

    # --- steps --------------------------------------------------------------------------

    def _greet(self) -> Reply:
        window = self.backend.reading_window()
        if not window.is_open:
            closed = WINDOW_CLOSED.format(first=window.first_day, last=window.last_day)
            return self._end([text(GREETING), text(closed), text(GOODBYE)])
        self.state.step = Step.ACCOUNT
        return self._reply([text(GREETING), text(OPERATOR_HINT), *self._question()])

    def _on_account(self, words: str, keys: str) -> Reply:
        if keys:
            if not keys.isdecimal() or len(keys) != ACCOUNT_LENGTH:
                return self._fail("keypad_account", KEYPAD_ACCOUNT)
            number = keys
        else:
            try:
                number = _parse_account(words)
            except NotUnderstood as error:
                return self._fail(error.code, error.message)
        return self._take_account(number)

    def _take_account(self, number: str, *, corrected: bool = False) -> Reply:
        """Read the account number heard back for confirmation (a corrected one too, which
        counts as a failed attempt: the caller said "нет" to the read-back before it)."""
        self.state.step = Step.ACCOUNT
        if not is_valid_account_number(number):
            heard = [text("Я услышал номер"), *self._account_digits(number), text(".")]
            return self._fail("check_digit", [*heard, text(CHECK_DIGIT)], understood=number)
        self.state.account_number = number
        self.state.step = Step.ACCOUNT_CONFIRM
        if corrected:
            return self._fail("account_corrected", [], understood=number)
        return self._reply(self._question(), understood=number)

    def _on_account_confirm(self, words: str, keys: str) -> Reply:
        answer = parse_yes_no(keys or words)
        heard = _number_in_answer(keys or words, _parse_account)
        if heard is not None and _corrects(words, answer):  # "нет, два три ноль ..."
            if isinstance(heard, NotUnderstood):
                self.state.step = Step.ACCOUNT
                return self._fail(heard.code, heard.message, understood="нет")
            return self._take_account(heard, corrected=True)
        if answer is None:
            return self._fail("unclear_answer", UNCLEAR_ANSWER)
        if not answer:
            self.state.step = Step.ACCOUNT
            return self._fail("account_denied", ACCOUNT_AGAIN, understood="нет")
        if heard is not None and (
            isinstance(heard, NotUnderstood) or heard != self.state.account_number
        ):
            return self._fail("yes_other_number", YES_WITH_OTHER_NUMBER)
        account = self.backend.find_account(self.state.account_number)
        if account is None:
            self.state.step = Step.ACCOUNT
            return self._fail("account_not_found", ACCOUNT_NOT_FOUND, understood="да")
        self.state.account_id = account.id
        if account.closed:
            return self._transfer([text(ACCOUNT_CLOSED)], understood="да")
        meters = self.backend.working_meters(account.id)
        if not meters:
            return self._transfer([text(NO_METERS)], understood="да")
        self.state.meters = [asdict(meter) for meter in meters]
        self.state.meter, self.state.attempts = 0, 0
        self.state.step = Step.READING
        count = len(meters)
        intro = (
            f"По счёту {reading_to_speech(Decimal(count))} "
            f"{plural_ru(count, 'счётчик', 'счётчика', 'счётчиков')}. {SKIP_HINT}"
        )
        return self._reply([text(intro), *self._question()], understood="да")

    def _on_reading(self, words: str, keys: str) -> Reply:
        if not keys and _has_word(words, "пропус"):
            return self._next_meter([text(SKIPPED)], understood="пропустить")
        if keys:
            value = _keypad_reading(keys)
            if value is None:
                return self._fail("keypad_reading", KEYPAD_READING)
        else:
            try:
                value = parse_reading(words)
            except NotUnderstood as error:
                return self._fail(error.code, error.message)
        return self._take_reading(value)

    def _take_reading(self, value: Decimal, *, corrected: bool = False) -> Reply:
        """Read the reading heard back for confirmation (a corrected one too, which counts as
        a failed attempt: the caller said "нет" to the read-back before it)."""
        state = self.state
        state.step, state.warning = Step.READING, ""
        try:
            volume_speech(value)
        except ValueError:  # a million cubic metres and more: no meter of a home reads that
            return self._fail("too_large_to_say", TOO_LARGE)
        state.value = str(value)
        state.step = Step.READING_CONFIRM
        if corrected:
            return self._fail("reading_corrected", [], understood=str(value))
        return self._reply(self._question(), understood=str(value))

    def _on_reading_confirm(self, words: str, keys: str) -> Reply:
        return self._confirm_reading(words, keys, confirmed=False)

    def _on_large_confirm(self, words: str, keys: str) -> Reply:
        return self._confirm_reading(words, keys, confirmed=True)

    def _confirm_reading(self, words: str, keys: str, *, confirmed: bool) -> Reply:
        """The answer to a read-back of the reading, or to the large-consumption question."""
        answer = parse_yes_no(keys or words)
        heard = _number_in_answer(keys or words, parse_reading)
        if heard is not None and _corrects(words, answer):  # "нет, восемьдесят девять"
            if isinstance(heard, NotUnderstood):
                self.state.step = Step.READING
                return self._fail(heard.code, heard.message, understood="нет")
            return self._take_reading(heard, corrected=True)
        if answer is None:
            return self._fail("unclear_answer", UNCLEAR_ANSWER)
        if not answer:
            self.state.step = Step.READING
            return self._fail("reading_denied", READING_AGAIN, understood="нет")
        if heard is not None and (
            isinstance(heard, NotUnderstood) or heard != Decimal(self.state.value)
        ):
            return self._fail("yes_other_number", YES_WITH_OTHER_NUMBER)
        return self._submit(confirmed=confirmed)

    def _submit(self, *, confirmed: bool) -> Reply:
        state = self.state
        meter = state.current_meter
        value = Decimal(state.value)
        result = self.backend.submit(meter_id=meter.id, value=value, confirmed=confirmed)
        if result.accepted:
            state.stored.append(
                {"meter": state.meter, "value": state.value, "reading_id": result.reading_id}
            )
            said = [STORED if result.created else STORED_AGAIN]
            if result.superseded:
                said.append(SUPERSEDED)
            return self._next_meter(
                [text(" ".join(said))], understood="да", reading_id=result.reading_id
            )
        reason = refusal_speech(result, value)
        if result.code == "needs_confirmation":
            state.warning = reason
            state.step = Step.LARGE_CONFIRM
            return self._reply(self._question(), understood="да", problem=result.code)
        if result.code in RETRYABLE:
            state.step = Step.READING
            return self._fail(result.code, reason, understood="да")
        if result.code == "window_closed":  # the window closed during the call: no meter will do
            return self._finish([text(reason)], problem=result.code)
        return self._next_meter([text(reason)], understood="да", problem=result.code)

    def _next_meter(self, said: list[Part], **log: Any) -> Reply:
        state = self.state
        state.meter += 1
        state.attempts, state.value, state.warning = 0, "", ""
        if state.meter < len(state.meters):
            state.step = Step.READING
            return self._reply([*said, *self._question()], **log)
        return self._finish(said, **log)

    def _finish(self, said: list[Part], **log: Any) -> Reply:
        summary: list[Part] = []
        stored = self.state.stored
        if stored:
            count = len(stored)
            words = "одно" if count == 1 else reading_to_speech(Decimal(count))
            noun = plural_ru(count, "показание", "показания", "показаний")
            summary.append(text(f"Итак, сохранено {words} {noun}."))
            for item in stored:
                meter = MeterInfo(**self.state.meters[item["meter"]])
                summary += [text(f"{KIND_SHORT.get(meter.kind, 'Счётчик')}")]
                if meter.tail:
                    summary += [text(", номер на"), digits(meter.tail)]
                summary.append(text(f": {volume_speech(Decimal(item['value']))}."))
        else:
            summary.append(text(NOTHING_STORED))
        return self._end([*said, *summary, text(GOODBYE)], **log)

    # --- helpers ------------------------------------------------------------------------

    def _question(self) -> list[Part]:
        """The current question, as first asked and as repeated."""
        state = self.state
        if state.step is Step.ACCOUNT:
            return [text(ASK_ACCOUNT)]
        if state.step is Step.ACCOUNT_CONFIRM:
            number = state.account_number
            return [text("Номер счёта"), *self._account_digits(number), text("."), text(YES_NO)]
        meter = state.current_meter
        if state.step is Step.READING:
            said = [text(f"Счётчик {KIND_NAMES.get(meter.kind, '')}")]
            if meter.tail:
                said += [text(", номер оканчивается на"), digits(meter.tail)]
            return [*said, text("."), text(ASK_READING)]
        if state.step is Step.READING_CONFIRM:
            return [text(f"Показание {volume_speech(Decimal(state.value))}."), text(YES_NO)]
        return [text(state.warning), text(LARGE_QUESTION)]  # Step.LARGE_CONFIRM

    def _collect(self) -> Collect:
        state = self.state
        if state.step is Step.ACCOUNT:
            return Collect(max_digits=ACCOUNT_LENGTH)
        if state.step is Step.READING:
            # the whole part, the decimal point key and three decimals
            return Collect(max_digits=state.current_meter.digits + 4)
        return Collect(max_digits=1)  # yes or no

    @staticmethod
    def _account_digits(number: str) -> list[Part]:
        groups, rest = [], number
        for size in ACCOUNT_GROUPS:
            groups.append(digits(rest[:size]))
            rest = rest[size:]
        return [*groups, digits(rest)] if rest else groups

    def _reply(self, parts: list[Part], **log: Any) -> Reply:
        return Reply(tuple(parts), self._collect(), Action.CONTINUE, **log)

    def _fail(self, problem: str, said: str | list[Part], **log: Any) -> Reply:
        """Count a failed attempt at the current question: ask again, or, at the limit,
        hand the caller to a person."""
        state = self.state
        state.attempts += 1
        state.retries += 1
        said = [text(said)] if isinstance(said, str) else said
        if state.attempts >= MAX_ATTEMPTS:
            return self._transfer([*said, text(TOO_MANY_ATTEMPTS)], problem=problem, **log)
        return self._reply([*said, *self._question()], problem=problem, **log)

    def _transfer(self, said: Sequence[Part] = (), **log: Any) -> Reply:
        self.state.step, self.state.outcome = Step.DONE, Outcome.TRANSFERRED
        return Reply((*said, text(TRANSFER)), None, Action.TRANSFER, **log)

    def _end(self, said: list[Part], **log: Any) -> Reply:
        self.state.step, self.state.outcome = Step.DONE, Outcome.COMPLETED
        return Reply(tuple(said), None, Action.HANGUP, **log)


def _keypad_reading(keys: str) -> Decimal | None:
    """A reading typed on the keypad: "123" or, with the star as the decimal point, "123*5"."""
    whole, point, fraction = keys.partition(KEYPAD_DECIMAL_POINT)
    if not whole.isdecimal() or not whole.isascii():
        return None
    if point and (not fraction.isdecimal() or not fraction.isascii() or len(fraction) > 3):
        return None
    return Decimal(f"{whole}.{fraction}" if fraction else whole)
