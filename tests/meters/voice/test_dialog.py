"""The dialog with repeated and corrected numbers (docs/phone-line.md §2, §3), over a backend kept in memory:
a correction at a read-back is read back in its turn, a repeat is asked again, and a number is
stored only after a "да" to that very number."""

from decimal import Decimal

import pytest

from accounts.validators import luhn_check_digit
from meters.voice.dialog import (
    AccountInfo,
    Action,
    Dialog,
    Event,
    EventKind,
    MeterInfo,
    ReadingWindow,
    State,
    Step,
    Submission,
)
from meters.voice.numbers import digits_to_speech


def account_number(payload: str) -> str:
    return payload + str(luhn_check_digit(payload))


ACCOUNT = account_number("230001234")
OTHER_ACCOUNT = account_number("230005678")


class Backend:
    """One open account with one cold-water meter; every reading is accepted, unless it is
    above `large` and not yet confirmed."""

    def __init__(self, *, large: Decimal | None = None) -> None:
        self.large = large
        self.submitted: list[tuple[Decimal, bool]] = []
        self.looked_up: list[str] = []

    def reading_window(self) -> ReadingWindow:
        return ReadingWindow(is_open=True, first_day=15, last_day=25)

    def find_account(self, number: str) -> AccountInfo | None:
        self.looked_up.append(number)
        return AccountInfo(id=1, closed=False) if number in (ACCOUNT, OTHER_ACCOUNT) else None

    def working_meters(self, account_id: int) -> list[MeterInfo]:
        return [MeterInfo(id=7, kind="cold", tail="457", digits=5)]

    def submit(self, *, meter_id: int, value: Decimal, confirmed: bool) -> Submission:
        if self.large is not None and value > self.large and not confirmed:
            return Submission(
                accepted=False, code="needs_confirmation", params={"consumption": "900,000"}
            )
        self.submitted.append((value, confirmed))
        return Submission(accepted=True, reading_id=len(self.submitted))


class Call:
    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend or Backend()
        self.dialog = Dialog(State(), self.backend)
        self.dialog.handle(Event(EventKind.START))

    @property
    def state(self) -> State:
        return self.dialog.state

    def say(self, text: str):
        return self.dialog.handle(Event(EventKind.INPUT, text=text))

    def press(self, digits: str):
        return self.dialog.handle(Event(EventKind.INPUT, digits=digits))

    def to_reading(self) -> "Call":
        self.say(digits_to_speech(ACCOUNT))
        self.say("да")
        assert self.state.step is Step.READING
        return self

    def to_read_back(self, reading: str) -> "Call":
        self.to_reading()
        self.say(reading)
        assert self.state.step is Step.READING_CONFIRM
        return self


@pytest.mark.parametrize(
    "answer",
    [
        "нет, восемьдесят девять",
        "Нет. Восемьдесят девять.",
        "нет, не так, восемьдесят девять",
        "ой, восемьдесят девять",
        "точнее, восемьдесят девять",
        "не восемьдесят семь, а восемьдесят девять",
        "нет, я сказал восемьдесят девять кубов",
        "да нет, восемьдесят девять",
    ],
)
def test_a_no_with_a_number_at_the_read_back_takes_the_new_number(answer):
    call = Call().to_read_back("восемьдесят семь")
    reply = call.say(answer)
    assert reply.say.startswith("Показание восемьдесят девять кубометров. Верно?")
    assert (reply.problem, reply.understood) == ("reading_corrected", "89")
    assert (call.state.step, call.state.value, call.state.attempts) == (
        Step.READING_CONFIRM,
        "89",
        1,
    )
    assert call.backend.submitted == []  # nothing is stored before its own "да"

    reply = call.say("да")
    assert reply.say.startswith("Показание принято и сохранено.")
    assert call.backend.submitted == [(Decimal(89), False)]


def test_a_plain_no_still_asks_for_the_reading_again():
    call = Call().to_read_back("восемьдесят семь")
    reply = call.say("нет")
    assert reply.problem == "reading_denied"
    assert reply.say.startswith("Хорошо, назовите показание ещё раз.")
    assert call.state.step is Step.READING


def test_a_no_with_a_number_not_understood_asks_for_the_reading_again():
    call = Call().to_read_back("восемьдесят семь")
    reply = call.say("нет, сто пять сто пять")
    assert reply.problem == "repeated_number"
    assert reply.say.startswith("Я услышал «сто пять» два раза подряд.")
    assert "Назовите показание" in reply.say
    assert call.state.step is Step.READING


def test_a_correction_inside_the_reading_is_read_back():
    call = Call().to_reading()
    reply = call.say("восемьдесят семь, нет, восемьдесят девять")
    assert reply.say.startswith("Показание восемьдесят девять кубометров.")
    assert call.state.value == "89"


@pytest.mark.parametrize(
    ("said", "read_back"),
    [
        ("двести, двести сорок", "Показание двести сорок кубометров."),
        ("три нуля пять", "Показание пять кубометров."),
        ("сто двадцать три запятая два нуля пять", "Показание сто двадцать три целых пять"),
    ],
)
def test_restarts_and_counted_zeros_in_the_reading(said, read_back):
    call = Call().to_reading()
    assert call.say(said).say.startswith(read_back)


@pytest.mark.parametrize(
    ("said", "problem", "prompt"),
    [
        ("сто пять сто пять", "repeated_number", "Я услышал «сто пять» два раза подряд."),
        ("двести сорок двести", "two_numbers", "Я услышал два числа подряд:"),
        ("восемьдесят, восемьдесят семь", "ambiguous_restart", "Я услышал «восемьдесят»"),
        ("восемьдесят семь, нет", "correction_without_number", "Я не услышал число после"),
    ],
)
def test_a_repeat_is_asked_again_and_nothing_is_kept(said, problem, prompt):
    call = Call().to_reading()
    reply = call.say(said)
    assert reply.problem == problem
    assert reply.say.startswith(prompt)
    assert reply.say.endswith("или наберите цифры и нажмите решётку.")
    assert (call.state.step, call.state.value) == (Step.READING, "")


def test_a_yes_with_another_number_is_not_stored():
    call = Call().to_read_back("восемьдесят семь")
    reply = call.say("да, восемьдесят девять")
    assert reply.problem == "yes_other_number"
    assert reply.say.startswith(
        "Я не понял: вы сказали «да», но назвали другое число. "
        "Показание восемьдесят семь кубометров. Верно?"
    )
    assert call.backend.submitted == []
    assert call.state.step is Step.READING_CONFIRM


@pytest.mark.parametrize("answer", ["да, восемьдесят семь", "да, верно", "1", " 1 "])
def test_a_yes_with_the_same_number_or_a_key_is_stored(answer):
    call = Call().to_read_back("восемьдесят семь")
    assert call.say(answer).say.startswith("Показание принято и сохранено.")
    assert call.backend.submitted == [(Decimal(87), False)]


def test_corrections_count_as_failed_attempts():
    call = Call().to_read_back("восемьдесят семь")
    call.say("нет, восемьдесят восемь")
    call.say("нет, восемьдесят девять")
    reply = call.say("нет, девяносто")
    assert reply.action is Action.TRANSFER
    assert call.backend.submitted == []


def test_a_correction_of_a_large_reading_is_read_back_before_anything_is_stored():
    call = Call(Backend(large=Decimal(1000))).to_read_back("две тысячи")
    reply = call.say("да")
    assert call.state.step is Step.LARGE_CONFIRM
    reply = call.say("нет, двести")
    assert reply.say.startswith("Показание двести кубометров. Верно?")
    assert (call.state.step, call.state.value, call.state.warning) == (
        Step.READING_CONFIRM,
        "200",
        "",
    )
    call.say("да")
    assert call.backend.submitted == [(Decimal(200), False)]


def test_a_yes_to_a_large_reading_with_another_number_is_not_stored():
    call = Call(Backend(large=Decimal(1000))).to_read_back("две тысячи")
    call.say("да")
    reply = call.say("да, двести")
    assert reply.problem == "yes_other_number"
    assert call.state.step is Step.LARGE_CONFIRM
    call.say("да")
    assert call.backend.submitted == [(Decimal(2000), True)]


def test_a_no_with_the_account_number_reads_the_new_number_back():
    call = Call()
    call.say(digits_to_speech(OTHER_ACCOUNT))
    reply = call.say(f"нет, {digits_to_speech(ACCOUNT)}")
    assert reply.problem == "account_corrected"
    assert reply.say.startswith(f"Номер счёта {digits_to_speech(ACCOUNT, groups=(3, 3))}.")
    assert (call.state.step, call.state.account_number) == (Step.ACCOUNT_CONFIRM, ACCOUNT)
    assert call.backend.looked_up == []
    call.say("да")
    assert call.backend.looked_up == [ACCOUNT]


def test_a_corrected_account_number_is_checked():
    call = Call()
    call.say(digits_to_speech(ACCOUNT))
    wrong = ACCOUNT[:9] + str((int(ACCOUNT[9]) + 1) % 10)
    reply = call.say(f"ой, {digits_to_speech(wrong)}")
    assert reply.problem == "check_digit"
    assert call.state.step is Step.ACCOUNT
    reply = call.say(f"нет, {digits_to_speech(ACCOUNT[:5])}")
    assert reply.problem == "wrong_length"


def test_a_yes_with_another_account_number_is_asked_again():
    call = Call()
    call.say(digits_to_speech(ACCOUNT))
    reply = call.say(f"да, {digits_to_speech(OTHER_ACCOUNT)}")
    assert reply.problem == "yes_other_number"
    assert call.backend.looked_up == []
    call.say(f"да, {digits_to_speech(ACCOUNT)}")
    assert call.backend.looked_up == [ACCOUNT]
