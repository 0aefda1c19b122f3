"""Scripted calls through the HTTP webhook, end to end: signed requests in, readings in the
database (docs/phone-line.md §5; the dialog: §2)."""

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.services import account_number_for
from meters.models import MeterReading, PhoneCall, PhoneTurn
from meters.voice.numbers import digits_to_speech
from tests.meters.voice.conftest import CALLER, MSK, OPERATOR

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_window")]


def readings():
    return {
        (r.meter.serial, r.value, r.channel)
        for r in MeterReading.objects.select_related("meter").filter(status="accepted")
    }


def confirm_account(platform, home):
    platform.start()
    platform.say(f"мой лицевой счёт {home.spoken}")
    return platform.say("да")


def test_a_call_stores_the_reading_of_every_meter(platform, home):
    reply = platform.start()
    assert reply["say"].startswith("Здравствуйте! Это автоматическая линия приёма показаний")
    assert reply["collect"] == {
        "type": "speech_or_digits",
        "max_digits": 10,
        "terminator": "#",
        "timeout": 7,
    }
    assert reply["action"] == "continue"

    reply = platform.say(f"э мой лицевой счёт {home.spoken}")
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]
    assert reply["say"].endswith("Верно? Скажите «да» или «нет», или нажмите 1 или 2.")
    assert reply["collect"]["max_digits"] == 1

    reply = platform.say("да, верно")
    assert "По счёту два счётчика." in reply["say"]
    assert "Счётчик холодной воды, номер оканчивается на четыре пять семь." in reply["say"]
    assert reply["collect"]["max_digits"] == 9  # five digits, the star and three decimals

    reply = platform.say("сто двадцать три запятая пять")
    assert reply["say"].startswith("Показание сто двадцать три целых пять десятых кубометра.")
    assert not MeterReading.objects.exists()  # nothing is stored before the "да"

    reply = platform.press("1")
    assert reply["say"].startswith("Показание принято и сохранено.")
    assert "Счётчик горячей воды, номер оканчивается на один два три." in reply["say"]
    assert readings() == {("СВ-700457", Decimal("123.500"), "phone")}

    reply = platform.press("215#")
    assert reply["say"].startswith("Показание двести пятнадцать кубометров.")
    reply = platform.say("правильно")
    assert reply["action"] == "hangup"
    assert reply["collect"] is None
    assert reply["say"] == (
        "Показание принято и сохранено. Итак, сохранено два показания. "
        "Холодная вода, номер на четыре пять семь: сто двадцать три целых пять десятых кубометра. "
        "Горячая вода, номер на один два три: двести пятнадцать кубометров. "
        "Спасибо за звонок! До свидания."
    )

    assert readings() == {
        ("СВ-700457", Decimal("123.500"), "phone"),
        ("ГВ-800123", Decimal("215.000"), "phone"),
    }
    call = PhoneCall.objects.get()
    assert (call.adapter, call.call_id, call.caller) == ("webhook", "call-1", CALLER)
    assert (call.outcome, call.account, call.readings_stored, call.retries) == (
        "completed",
        home.account,
        2,
        0,
    )
    assert call.ended_at is not None
    turns = list(call.turns.order_by("n"))
    assert [t.n for t in turns] == list(range(1, 8))
    assert [t.understood for t in turns] == ["", home.number, "да", "123.5", "да", "215", "да"]
    stored = [t.reading for t in turns if t.reading]
    assert [(r.meter.serial, r.value) for r in stored] == [
        ("СВ-700457", Decimal("123.500")),
        ("ГВ-800123", Decimal("215.000")),
    ]
    assert turns[1].heard_text == f"э мой лицевой счёт {home.spoken}"
    assert turns[5].heard_digits == "215#"


def test_the_account_number_may_be_typed_and_said_in_groups(platform, home):
    platform.start()
    reply = platform.press(home.number + "#")
    assert digits_to_speech(home.number, groups=(3, 3)) in reply["say"]
    reply = platform.press("2")  # "no": ask again
    assert reply["say"].startswith("Хорошо, назовите номер ещё раз. Назовите номер лицевого")
    number = home.number
    pairs = " ".join(digits_to_speech(number[i : i + 2]) for i in range(0, 10, 2))
    reply = platform.say(pairs)
    assert digits_to_speech(number, groups=(3, 3)) in reply["say"]
    reply = platform.say("да")
    assert "Счётчик холодной воды" in reply["say"]
    assert PhoneCall.objects.get().retries == 1


def test_a_wrong_account_is_explained_and_asked_again(platform, home):
    platform.start()
    wrong_check_digit = home.number[:9] + str((int(home.number[9]) + 1) % 10)
    reply = platform.say(digits_to_speech(wrong_check_digit))
    assert reply["say"].startswith(
        f"Я услышал номер {digits_to_speech(wrong_check_digit, groups=(3, 3))}. "
        "Такого номера лицевого счёта не бывает: проверьте номер по квитанции. "
        "Назовите номер лицевого счёта"
    )

    unknown = account_number_for(9_999_999)  # a valid check digit, but no such account
    reply = platform.press(unknown)
    assert digits_to_speech(unknown, groups=(3, 3)) in reply["say"]
    reply = platform.say("да")
    assert reply["say"].startswith("Лицевой счёт с таким номером не найден.")
    assert reply["action"] == "continue"

    reply = platform.say(home.spoken)
    reply = platform.say("да")
    assert "Счётчик холодной воды" in reply["say"]
    call = PhoneCall.objects.get()
    assert (call.retries, call.account) == (2, home.account)
    problems = list(call.turns.exclude(problem="").values_list("problem", flat=True))
    assert problems == ["check_digit", "account_not_found"]


def test_a_number_too_short_is_asked_again_not_padded(platform, home):
    platform.start()
    reply = platform.say("двадцать три")
    assert reply["say"].startswith("Нужно назвать 10 цифр, а я услышал 2.")
    assert PhoneCall.objects.get().state["step"] == "account"


TOO_MANY_DIGITS = "Я услышал слишком много цифр. Назовите, пожалуйста, только одно число."


def test_a_number_of_thousands_of_digits_is_asked_again_not_a_technical_error(platform, home):
    """Beyond 4300 digits int() raises ValueError: the parser refuses far shorter numbers."""
    huge = "1" * 5000
    platform.start()
    reply = platform.say(huge)
    assert reply["say"].startswith(TOO_MANY_DIGITS + " Назовите номер лицевого счёта")
    assert reply["action"] == "continue"
    platform.say(home.spoken)
    reply = platform.say(f"нет, {huge}")  # an answer to the read-back holding a correction
    assert reply["say"].startswith(TOO_MANY_DIGITS)
    assert reply["action"] == "continue"
    confirm_account(platform, home)
    reply = platform.say(" ".join(["девять"] * 5000))
    assert reply["say"].startswith(TOO_MANY_DIGITS + " Счётчик холодной воды")
    platform.say("сто двадцать три")
    reply = platform.say(f"да {huge}")  # a yes with a different number is unclear
    assert reply["action"] == "continue"
    call = PhoneCall.objects.get()
    assert call.outcome == "in_progress"
    assert not call.turns.filter(problem="failed").exists()
    assert set(call.turns.values_list("problem", flat=True)) >= {"too_many_digits"}


def test_three_wrong_accounts_transfer_the_call(platform, home):
    platform.start()
    platform.press("1234567890")
    platform.press("123")
    reply = platform.say("кошка")
    assert reply["action"] == "transfer"
    assert reply["transfer_to"] == OPERATOR
    assert reply["say"].endswith(
        "Не получается разобрать ответ. Соединяю с оператором, подождите, пожалуйста."
    )
    call = PhoneCall.objects.get()
    assert (call.outcome, call.retries, call.account) == ("transferred", 3, None)


def test_a_lower_reading_is_refused_in_words_and_a_retry_is_accepted(platform, home):
    confirm_account(platform, home)
    platform.say("пятьдесят")
    reply = platform.say("да")
    assert reply["say"].startswith(
        "Показание пятьдесят кубометров меньше предыдущего принятого показания, "
        "сто кубометров. Проверьте цифры до запятой. Счётчик холодной воды"
    )
    assert not MeterReading.objects.exists()

    reply = platform.say("сто десять")
    assert reply["say"].startswith("Показание сто десять кубометров.")
    reply = platform.say("да")
    assert reply["say"].startswith("Показание принято и сохранено. Счётчик горячей воды")
    reply = platform.say("пропустить")
    assert reply["action"] == "hangup"
    assert "Счётчик пропущен. Итак, сохранено одно показание." in reply["say"]
    assert readings() == {("СВ-700457", Decimal("110.000"), "phone")}
    call = PhoneCall.objects.get()
    assert (call.outcome, call.readings_stored, call.retries) == ("completed", 1, 1)


def test_a_reading_heard_wrong_is_corrected_before_it_is_stored(platform, home):
    confirm_account(platform, home)
    platform.say("сто двадцать")
    reply = platform.say("нет")
    assert reply["say"].startswith("Хорошо, назовите показание ещё раз. Счётчик холодной воды")
    platform.say("сто тридцать")
    platform.say("да")
    assert readings() == {("СВ-700457", Decimal("130.000"), "phone")}


def test_a_no_with_the_right_number_is_read_back_and_then_stored(platform, home):
    confirm_account(platform, home)
    reply = platform.say("двести, двести сорок")  # a hesitation, not 200240
    assert reply["say"].startswith("Показание двести сорок кубометров. Верно?")
    reply = platform.say("нет, двести пятьдесят")
    assert reply["say"].startswith("Показание двести пятьдесят кубометров. Верно?")
    assert not MeterReading.objects.exists()
    reply = platform.say("да")
    assert reply["say"].startswith("Показание принято и сохранено.")
    assert readings() == {("СВ-700457", Decimal("250.000"), "phone")}
    turns = PhoneCall.objects.get().turns.order_by("n")
    assert [(t.understood, t.problem) for t in turns][-3:] == [
        ("240", ""),
        ("250", "reading_corrected"),
        ("да", ""),
    ]


def test_an_unusually_large_consumption_is_confirmed_on_the_spot(platform, home):
    confirm_account(platform, home)
    platform.press("5000")
    reply = platform.press("1")
    assert reply["say"].startswith(
        "Расход с прошлого показания получается четыре тысячи девятьсот кубометров: "
        "это необычно много. Если показание верное, скажите «да» или нажмите 1."
    )
    assert not MeterReading.objects.exists()
    reply = platform.say("да, подтверждаю")
    assert reply["say"].startswith("Показание принято и сохранено.")
    reading = MeterReading.objects.get()
    assert (reading.value, reading.needs_review) == (Decimal("5000.000"), True)


def test_a_reading_with_decimals_may_be_typed_with_the_star(platform, home):
    confirm_account(platform, home)
    reply = platform.press("123*45#")
    assert reply["say"].startswith("Показание сто двадцать три целых сорок пять сотых кубометра.")
    platform.press("1")
    assert readings() == {("СВ-700457", Decimal("123.450"), "phone")}


def test_silence_is_asked_again_then_the_call_goes_to_an_operator(platform, home):
    platform.start()
    reply = platform.silence()
    assert reply["say"].startswith("Я вас не слышу. Назовите номер лицевого счёта")
    reply = platform.post("input", text="  ", digits="")
    assert reply["say"].startswith("Я вас не слышу.")
    reply = platform.silence()
    assert reply["action"] == "transfer"
    assert reply["say"] == (
        "Я вас не слышу. Не получается разобрать ответ. "
        "Соединяю с оператором, подождите, пожалуйста."
    )
    call = PhoneCall.objects.get()
    assert (call.outcome, call.retries) == ("transferred", 3)
    assert not MeterReading.objects.exists()


def test_a_hang_up_mid_call_stores_nothing_half_done(platform, home):
    confirm_account(platform, home)
    platform.say("сто двадцать три")  # read back, not yet confirmed
    reply = platform.hang_up()
    assert reply == {"say": "", "collect": None, "action": "hangup"}
    assert not MeterReading.objects.exists()
    call = PhoneCall.objects.get()
    assert (call.outcome, call.readings_stored) == ("hung_up", 0)
    assert call.ended_at is not None
    assert call.turns.order_by("-n").first().event == "hangup"


def test_a_hang_up_keeps_what_was_already_confirmed(platform, home):
    confirm_account(platform, home)
    platform.say("сто двадцать три")
    platform.say("да")
    platform.hang_up()
    assert readings() == {("СВ-700457", Decimal("123.000"), "phone")}
    call = PhoneCall.objects.get()
    assert (call.outcome, call.readings_stored) == ("hung_up", 1)


def test_events_after_the_end_of_a_call_change_nothing(platform, home):
    confirm_account(platform, home)
    platform.say("оператор")
    call = PhoneCall.objects.get()
    assert call.outcome == "transferred"
    assert platform.hang_up()["action"] == "hangup"  # the platform reports the caller leaving
    assert platform.say("да")["action"] == "hangup"
    call.refresh_from_db()
    assert call.outcome == "transferred"


@pytest.mark.parametrize(
    ("text", "digits"),
    [("соедините с оператором", ""), ("оператор", ""), ("", "0"), ("", "0#")],
)
def test_the_caller_can_ask_for_an_operator_at_any_question(platform, home, text, digits):
    confirm_account(platform, home)
    reply = platform.post("input", text=text, digits=digits)
    assert reply["action"] == "transfer"
    assert reply["say"] == "Соединяю с оператором, подождите, пожалуйста."
    assert reply["transfer_to"] == OPERATOR
    assert PhoneCall.objects.get().outcome == "transferred"


def test_a_repeated_start_asks_the_current_question_again(platform, home):
    platform.start()
    platform.say(home.spoken)
    reply = platform.start()
    assert reply["say"].startswith("Номер счёта")
    call = PhoneCall.objects.get()
    assert (call.state["step"], call.retries) == ("account_confirm", 0)


def test_an_account_without_working_meters_goes_to_an_operator(platform, home):
    home.cold.state = home.hot.state = "broken"
    home.cold.save()
    home.hot.save()
    reply = confirm_account(platform, home)
    assert reply["action"] == "transfer"
    assert reply["say"].startswith("По этому лицевому счёту нет счётчиков")


def test_outside_the_reading_window_the_caller_is_told_when_to_call(platform, home):
    with time_machine.travel(datetime(2026, 11, 5, 10, 0, tzinfo=MSK), tick=False):
        reply = platform.start()
    assert reply["action"] == "hangup"
    assert "их принимают с 15-го по 25-е число каждого месяца" in reply["say"]
    assert PhoneCall.objects.get().outcome == "completed"


def test_every_turn_is_logged_with_what_was_heard_and_said(platform, home):
    confirm_account(platform, home)
    turn = PhoneTurn.objects.get(n=2)
    assert (turn.event, turn.understood, turn.action) == ("input", home.number, "continue")
    assert turn.prompt.startswith("Номер счёта")


def test_a_value_beyond_the_meters_digits_is_refused_and_asked_again(platform, home):
    confirm_account(platform, home)
    platform.press("123456")
    reply = platform.press("1")
    assert reply["say"].startswith(
        "У этого счётчика пять цифр до запятой, такого показания быть не может. "
        "Счётчик холодной воды"
    )
    assert not MeterReading.objects.exists()


def test_a_meter_that_stopped_taking_readings_during_the_call_is_explained(platform, home):
    confirm_account(platform, home)
    platform.say("сто двадцать")
    home.cold.state = "broken"  # staff marked it while the caller was talking
    home.cold.save()
    reply = platform.say("да")
    assert reply["say"].startswith(
        "Показания этого счётчика не принимаются: он числится неисправным. "
        "Подробности можно узнать у оператора. Счётчик горячей воды"
    )
    assert not MeterReading.objects.exists()
    assert PhoneCall.objects.get().retries == 0


def test_a_window_closing_during_the_call_ends_it_with_the_reason(platform, home):
    confirm_account(platform, home)
    platform.say("сто двадцать")
    with time_machine.travel(datetime(2026, 11, 26, 0, 1, tzinfo=MSK), tick=False):
        reply = platform.say("да")
    assert reply["action"] == "hangup"
    assert reply["say"].startswith("Сейчас показания не принимаются: их принимают с 15-го")
    assert reply["say"].endswith(
        "Показания в этом звонке не сохранены. Спасибо за звонок! До свидания."
    )
    assert not MeterReading.objects.exists()
