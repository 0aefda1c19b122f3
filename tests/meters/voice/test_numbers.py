"""Spoken Russian numbers (docs/phone-line.md §3): one row per phrase.

Expected values follow the grammar and the decisions in the docstring of meters/voice/numbers.py."""

import random
from decimal import Decimal

import pytest

from meters.voice.numbers import (
    MAX_DIGITS,
    NotUnderstood,
    digits_to_speech,
    has_correction,
    normalise,
    parse_digits,
    parse_reading,
    parse_yes_no,
    reading_to_speech,
    vocabulary,
)

# (recognised text, digits)
DIGITS = [
    # digit by digit, leading zeros kept
    ("три восемь ноль ноль один", "38001"),
    ("три восемь ноль ноль один два", "380012"),
    ("ноль ноль семь", "007"),
    ("нуль нуль семь", "007"),
    ("один два три четыре пять шесть семь восемь девять ноль", "1234567890"),
    ("семь семь семь", "777"),
    ("ноль", "0"),
    ("девять", "9"),
    # recogniser spellings
    ("адин два три", "123"),
    ("шест шесть", "66"),
    ("читыре", "4"),
    ("сем восем", "78"),
    ("двеннадцать", "12"),
    # groups: greedy, a new group when the next word cannot extend the current one
    ("двадцать три сорок пять", "2345"),
    ("сто двадцать три", "123"),
    ("сто три", "103"),
    ("сто двадцать", "120"),
    ("сто один", "101"),
    ("сто одиннадцать", "111"),
    ("двадцать тридцать", "2030"),
    ("двадцать ноль", "200"),
    ("двадцать ноль пять", "2005"),
    ("двадцать одиннадцать", "2011"),
    ("одиннадцать двенадцать", "1112"),
    ("десять", "10"),
    ("шестьдесят", "60"),
    ("семьдесят семь", "77"),
    ("сорок пять семь", "457"),
    ("девятнадцать восемьдесят четыре", "1984"),
    ("девяносто девять девяносто девять", "9999"),
    ("пятьдесят пять пятьдесят пять", "5555"),
    ("двенадцать тридцать четыре пятьдесят шесть", "123456"),
    ("пятьсот пятнадцать", "515"),
    ("восемьсот восемьдесят восемь", "888"),
    ("триста ноль семь", "30007"),
    # pairs and digits are dictation even when they repeat (see REPEATS for whole numbers)
    ("двадцать двадцать", "2020"),
    ("восемьдесят семь восемьдесят семь", "8787"),
    ("сто двадцать три сорок пять шестьдесят семь", "1234567"),
    ("двадцать три сто двадцать три", "23123"),
    ("двести тридцать ноль ноль один двадцать три сорок пять", "2300012345"),
    ("двадцать три ноль ноль ноль один двадцать три сорок пять", "2300012345"),
    # thousands combine arithmetically
    ("тысяча", "1000"),
    ("одна тысяча", "1000"),
    ("одну тысячу", "1000"),
    ("тысяча двести", "1200"),
    ("тыща двести", "1200"),
    ("две тысячи пять", "2005"),
    ("две тысячи двадцать пять", "2025"),
    ("три тысячи", "3000"),
    ("пять тысяч сто", "5100"),
    ("четыре тысячи одиннадцать", "4011"),
    ("двадцать одна тысяча", "21000"),
    ("двадцать пять тысяч триста", "25300"),
    ("сто тысяч", "100000"),
    ("сто двадцать три тысячи четыреста пятьдесят шесть", "123456"),
    ("девятьсот девяносто девять тысяч девятьсот девяносто девять", "999999"),
    ("тысяча девятьсот восемьдесят четыре", "1984"),
    ("тысяча двести тридцать четыре пятьдесят шесть", "123456"),
    ("две тысячи ноль", "20000"),
    ("полторы тысячи", "1500"),
    ("две с половиной тысячи", "2500"),
    ("тысяча с половиной", "1500"),
    # cases and genders
    ("двухсот тридцати пяти", "235"),
    ("трехсот", "300"),
    ("трёхсот", "300"),
    ("четырёх", "4"),
    ("пятистах", "500"),
    ("сорока двух", "42"),
    ("девяноста", "90"),
    ("двух тысяч", "2000"),
    ("пяти тысяч двухсот", "5200"),
    ("одного", "1"),
    ("тремя четырьмя", "34"),
    # figures from the recogniser
    ("12 34", "1234"),
    ("2300012345", "2300012345"),
    ("лицевой счёт 2300012345", "2300012345"),
    ("23-00-01", "230001"),
    ("2 300 012 345", "2300012345"),
    ("007", "007"),
    ("2 тысячи 25", "2025"),
    ("5 тысяч", "5000"),
    ("тысяча 200", "1200"),
    ("12 сорок пять", "1245"),
    ("номер 38001#", "38001"),
    # noise, case, punctuation
    ("э три восемь ноль ноль один", "38001"),
    ("эм значит так три восемь", "38"),
    ("ну это мой номер двадцать три сорок пять", "2345"),
    ("номер оканчивается на четыре пять семь", "457"),
    ("Лицевой Счёт: 23 00 01, пожалуйста", "230001"),
    ("три, восемь, ноль", "380"),
    ("ТРИ ВОСЕМЬ", "38"),
    ("мне кажется двадцать три", "23"),
    ("двадцать три э сорок пять", "2345"),
    ("двадцать три и сорок пять", "2345"),
    ("сто двадцать три кубов", "123"),
    ("номер счётчика ноль ноль пять", "005"),
    ("вот значит двенадцать ну тридцать четыре", "1234"),
]

# (recognised text, reading)
READINGS = [
    # whole numbers
    ("сто двадцать три", "123"),
    ("ноль", "0"),
    ("ноль ноль семь", "7"),
    ("ноль ноль ноль", "0"),
    ("пятьдесят", "50"),
    ("двадцать ноль", "200"),
    ("двадцать три сорок пять", "2345"),
    ("три восемь ноль ноль один", "38001"),
    ("две тысячи двадцать пять", "2025"),
    ("тысяча двести", "1200"),
    ("сто тысяч", "100000"),
    ("девятьсот девяносто девять тысяч девятьсот девяносто девять", "999999"),
    ("двухсот тридцати пяти", "235"),
    ("четырёхсот", "400"),
    # "запятая" and "точка": dictated digits, zeros kept
    ("сто двадцать три запятая четыре пять шесть", "123.456"),
    ("сто двадцать три запятая пять", "123.5"),
    ("сто двадцать три запятая ноль пять", "123.05"),
    ("сто двадцать три запятая ноль ноль пять", "123.005"),
    ("сто двадцать три запятая четыреста пятьдесят шесть", "123.456"),
    ("сто двадцать три запятая сорок пять", "123.45"),
    ("сто двадцать три запятая четыреста пятьдесят", "123.450"),
    ("сто двадцать три запятой пять", "123.5"),
    ("семь запятая ноль", "7.0"),
    ("сто двадцать три точка пять", "123.5"),
    ("сто двадцать три точка четыре пять шесть", "123.456"),
    ("двадцать пять тысяч триста запятая пять", "25300.5"),
    ("сто двадцать три запятая пять десятых", "123.5"),
    # "и" between numbers
    ("сто двадцать три и пять", "123.5"),
    ("сто двадцать три и сорок пять", "123.45"),
    ("сто двадцать три и пять десятых", "123.5"),
    ("тысяча двести и пять", "1200.5"),
    ("тысяча и пять десятых", "1000.5"),
    ("ну и сто двадцать три", "123"),
    ("сто двадцать три и", "123"),
    # "целых ... десятых/сотых/тысячных"
    ("сто двадцать три целых четыреста пятьдесят шесть тысячных", "123.456"),
    ("пять целых семь десятых", "5.7"),
    ("ноль целых двенадцать сотых", "0.12"),
    ("двенадцать целых триста сорок пять тысячных", "12.345"),
    ("одна целая одна десятая", "1.1"),
    ("две целых пять десятых", "2.5"),
    ("две целых и пять десятых", "2.5"),
    ("двадцать одна целая двадцать одна сотая", "21.21"),
    ("ноль целых пять сотых", "0.05"),
    ("ноль целых одна тысячная", "0.001"),
    ("ноль целых ноль пять сотых", "0.05"),
    ("три целых девяносто девять сотых", "3.99"),
    ("сто целых девятьсот девяносто девять тысячных", "100.999"),
    ("десять целых одна сотая", "10.01"),
    ("одиннадцать целых одиннадцать сотых", "11.11"),
    ("двадцать одна тысяча целых пять десятых", "21000.5"),
    ("ста двадцати трёх целых пяти десятых", "123.5"),
    ("одной целой одной десятой", "1.1"),
    ("одну целую пять десятых", "1.5"),
    ("нуль целых пять десятых", "0.5"),
    ("ноль целых пять", "0.5"),
    ("два целых три", "2.3"),
    # a denominator alone
    ("пять десятых", "0.5"),
    ("семь сотых", "0.07"),
    ("четыреста литров", "0.400"),
    # cubic metres and litres
    ("сто двадцать три куба четыреста литров", "123.400"),
    ("сто двадцать три кубометра и четыреста пятьдесят шесть литров", "123.456"),
    ("сто двадцать три кубических метра пять литров", "123.005"),
    # halves
    ("полтора", "1.5"),
    ("полторы", "1.5"),
    ("полтора куба", "1.5"),
    ("сто двадцать три с половиной", "123.5"),
    ("два с половиной", "2.5"),
    ("2 с половиной", "2.5"),
    ("полторы тысячи", "1500"),
    ("полторы тысячи двести", "1700"),
    ("полутора тысяч", "1500"),
    ("две с половиной тысячи", "2500"),
    ("две тысячи с половиной", "2500"),
    ("тысяча с половиной", "1500"),
    ("две тысячи пять с половиной", "2005.5"),
    # figures from the recogniser
    ("123,456", "123.456"),
    ("123.456", "123.456"),
    ("123,5", "123.5"),
    ("1 234,5", "1234.5"),
    ("12 34", "1234"),
    ("0,5", "0.5"),
    ("00123", "123"),
    ("показания 123,4 куба", "123.4"),
    ("123 запятая 45", "123.45"),
    ("123 и 5", "123.5"),
    ("5 тысяч 25", "5025"),
    # noise and case
    ("э значит сто двадцать три запятая пять", "123.5"),
    ("показания сто двадцать три кубов", "123"),
    ("ну вот показания счётчика сто двадцать три куба", "123"),
    ("мои показания ноль ноль один два три кубометров пожалуйста", "123"),
    ("э эм сто так двадцать три", "123"),
    ("Сто Двадцать Три Запятая Пять", "123.5"),
    ("СТО ДВАДЦАТЬ ТРИ ЦЕЛЫХ ПЯТЬ ДЕСЯТЫХ.", "123.5"),
]

# (recognised text, error code) for parse_digits
REFUSED_DIGITS = [
    ("", "empty"),
    ("   ", "empty"),
    ("...", "empty"),
    ("э ну вот", "no_numbers"),
    ("я не знаю", "no_numbers"),
    ("сто двадцать три запятая пять", "not_digits"),
    ("123,5", "not_digits"),
    ("пять десятых", "not_digits"),
    ("полтора", "not_digits"),
    ("два с половиной", "not_digits"),
    ("пять целых", "not_digits"),
    ("третий", "unknown_number_word"),
    ("миллион", "unknown_number_word"),
    ("сотня", "unknown_number_word"),
    ("двадцать пятое", "unknown_number_word"),
    ("три кошка восемь", "unclear_word"),
    ("ноль тысяч", "thousand_misplaced"),
    ("тысяча тысяч", "thousand_misplaced"),
    ("две тысячи пять тысяч", "thousand_misplaced"),
    ("007 тысяч", "thousand_misplaced"),
    ("1234 тысячи", "thousand_misplaced"),
    ("с половиной", "no_numbers"),
    ("половиной пять", "half_misplaced"),
    ("полтора с половиной", "half_misplaced"),
    ("сто с половиной", "ambiguous_half"),
    # "сто сто" was read as "100100" and "сто двести" as "100200" before docs/phone-line.md §3: two whole
    # numbers side by side are no longer glued together (see REFUSED_REPEATS)
    ("сто сто", "repeated_number"),
    ("сто двести", "two_numbers"),
]

# (recognised text, error code) for parse_reading
REFUSED_READINGS = [
    ("", "empty"),
    ("показания", "no_numbers"),
    ("сто запятая два запятая три", "two_separators"),
    ("123,4,5", "two_separators"),
    ("сто двадцать три и пять и шесть", "two_separators"),
    ("пять целых два запятая три", "two_separators"),
    ("пять целых двадцать три десятых", "fraction_too_long"),
    ("ноль целых сто сотых", "fraction_too_long"),
    ("пять целых тысяча тысячных", "fraction_too_long"),
    ("двенадцать десятых", "fraction_too_long"),
    ("сто двадцать три пять десятых", "missing_separator"),
    ("пять десятых три сотых", "fraction_misplaced"),
    ("пять десятых три", "fraction_misplaced"),
    ("запятая пять", "missing_integer"),
    ("целых пять десятых", "missing_integer"),
    ("сто двадцать три запятая", "missing_fraction"),
    ("сто целых десятых", "missing_fraction"),
    ("сто двадцать три куба четыреста", "missing_denominator"),
    ("сто двадцать три запятая четыре пять шесть семь", "too_many_decimals"),
    ("1,2345", "too_many_decimals"),
    ("две тысячи двадцать пять сорок", "ambiguous_groups"),
    ("двадцать три две тысячи", "ambiguous_groups"),
    ("2 тысячи 25 12", "ambiguous_groups"),
    ("тысяча и пять", "ambiguous_and"),
    ("две тысячи и три", "ambiguous_and"),
    ("полтора два", "half_misplaced"),
    ("полтора запятая пять", "half_misplaced"),
    ("два с половиной запятая пять", "half_misplaced"),
    ("с половиной пять", "half_misplaced"),
    ("сто с половиной", "ambiguous_half"),
    ("двести с половиной", "ambiguous_half"),
    ("пятый", "unknown_number_word"),
    ("сто двадцать третий", "unknown_number_word"),
    ("полтораста", "unknown_number_word"),
    ("два миллиона", "unknown_number_word"),
    ("минус пять", "unknown_number_word"),
    ("сто кошка двадцать три", "unclear_word"),
    ("сто двадцать три запятая как бы пять", "unclear_word"),
    ("ноль тысяч", "thousand_misplaced"),
]

# docs/phone-line.md §3. (recognised text, digits, reading): the same phrase through both parsers.
# A self-correction: the number after the last correction word wins.
CORRECTIONS = [
    ("восемьдесят семь, нет, восемьдесят девять", "89", "89"),
    ("нет, восемьдесят девять", "89", "89"),
    ("Нет! Восемьдесят девять.", "89", "89"),
    ("восемьдесят семь нет нет восемьдесят девять", "89", "89"),
    ("восемьдесят семь, ой, восемьдесят девять", "89", "89"),
    ("восемьдесят семь точнее восемьдесят девять", "89", "89"),
    ("восемьдесят семь, а точнее восемьдесят девять", "89", "89"),
    ("восемьдесят семь вернее восемьдесят девять", "89", "89"),
    ("восемьдесят семь, то есть восемьдесят девять", "89", "89"),
    ("восемьдесят семь, в смысле, восемьдесят девять", "89", "89"),
    ("восемьдесят семь, не так, восемьдесят девять", "89", "89"),
    ("восемьдесят семь, неправильно, восемьдесят девять", "89", "89"),
    ("не восемьдесят семь, а восемьдесят девять", "89", "89"),
    ("сто двадцать три, извините, сто тридцать два", "132", "132"),
    ("сто двадцать три, ой, я ошиблась, сто тридцать два", "132", "132"),
    ("сто, ой, двести, точнее двести десять", "210", "210"),
    ("ой, сто двадцать три", "123", "123"),
    ("э нет вернее восемьдесят девять", "89", "89"),
    # a correction settles what a repeat or two numbers left open
    ("сто пять сто пять, нет, сто шесть", "106", "106"),
    ("сто двести, точнее двести", "200", "200"),
    ("восемьдесят, ой, восемьдесят семь", "87", "87"),
    ("три нуля пять, нет, два нуля пять", "005", "5"),
    (
        "два три ноль ноль ноль один два три четыре пять, нет, "
        "два три ноль ноль ноль один два три четыре шесть",
        "2300012346",
        "2300012346",
    ),
]
# Corrections in readings with a fraction.
CORRECTED_READINGS = [
    ("сто двадцать три и пять, точнее, сто двадцать три и шесть", "123.6"),
    ("сто двадцать три запятая пять, нет, сто двадцать три запятая шесть", "123.6"),
    ("пять целых семь десятых, ой, пять целых восемь десятых", "5.8"),
]

# "N нуля/нулей": N zero digits.
COUNTED_ZEROS = [
    ("три нуля пять", "0005", "5"),
    ("два нуля", "00", "0"),
    ("два нуля семь", "007", "7"),
    ("ноля два", "02", "2"),  # "ноля" with no count before it is one zero, as before
    ("четыре нуля один", "00001", "1"),
    ("пять нулей семь", "000007", "7"),
    ("девять нолей", "000000000", "0"),
    ("один три нуля", "1000", "1000"),
    ("один ноль", "10", "10"),  # dictated digit by digit, not a count of one
    ("двадцать пять три нуля", "25000", "25000"),
    ("двенадцать два нуля", "1200", "1200"),
    ("3 нуля 5", "0005", "5"),
    ("два четыре нуля один двадцать три сорок пять", "2000012345", "2000012345"),
    ("номер счётчика два нуля пять", "005", "5"),
]
COUNTED_ZEROS_READINGS = [
    ("сто двадцать три запятая два нуля пять", "123.005"),
    ("один два нуля запятая пять", "100.5"),
    ("пять запятая три нуля", "5.000"),
]

# Whole numbers said again: a restart that goes on is a hesitation, the last number wins.
REPEATS = [
    ("двести, двести сорок", "240", "240"),
    ("двести… двести сорок", "240", "240"),
    ("двести двести сорок пять", "245", "245"),
    ("двести сорок, двести сорок пять", "245", "245"),
    ("сто, сто двадцать три", "123", "123"),
    ("сто двадцать, сто двадцать три", "123", "123"),
    ("двухсот, двести сорок", "240", "240"),  # compared by value
    ("двести, двести сорок, двести сорок пять", "245", "245"),
    ("две тысячи, две тысячи двадцать пять", "2025", "2025"),
    ("одна тысяча, одна тысяча двести", "1200", "1200"),
    ("две тысячи пятьсот, две тысячи пятьсот один", "2501", "2501"),
    ("двадцать пять тысяч, двадцать пять тысяч триста", "25300", "25300"),
    ("сто тысяч сто тысяч пятьсот", "100500", "100500"),
    ("э двести значит двести сорок кубов", "240", "240"),
]
REPEATED_READINGS = [
    ("двести, двести сорок запятая пять", "240.5"),
    ("сто двадцать три запятая четыреста, четыреста пятьдесят", "123.450"),
]

# (recognised text, error code) for both parsers: asked again, never glued or guessed.
REFUSED_REPEATS = [
    ("сто пять сто пять", "repeated_number"),
    ("двести сорок, двести сорок", "repeated_number"),
    ("две тысячи две тысячи", "repeated_number"),
    ("двести… двести", "repeated_number"),
    ("сто двадцать три четыреста пятьдесят шесть", "two_numbers"),
    ("двести сорок, двести", "two_numbers"),
    ("две тысячи двадцать пять три тысячи", "two_numbers"),
    ("восемьдесят, восемьдесят семь", "ambiguous_restart"),
    ("двадцать, двадцать три", "ambiguous_restart"),
    ("тысяча, тысяча двести", "thousand_misplaced"),
    ("пять нуля", "ambiguous_zeros"),
    ("два нулей", "ambiguous_zeros"),
    ("нулей пять", "ambiguous_zeros"),
    ("десять нулей", "ambiguous_zeros"),
    ("двадцать три нуля", "ambiguous_zeros"),
    ("сто два нуля", "ambiguous_zeros"),
    ("тысяча три нуля", "ambiguous_zeros"),
    ("восемьдесят семь, нет", "correction_without_number"),
    ("восемьдесят семь, ой", "correction_without_number"),
    ("сто двадцать три, то есть", "correction_without_number"),
    ("восемьдесят семь, нет, кошка", "correction_without_number"),
    ("восемьдесят семь нет третий", "unknown_number_word"),
    ("нет", "no_numbers"),
    ("ой, нет", "no_numbers"),
]

# (answer to a read-back, whether it corrects it with a number)
HAS_CORRECTION = [
    ("нет, восемьдесят девять", True),
    ("ой, восемьдесят девять", True),
    ("точнее восемьдесят девять", True),
    ("не так, восемьдесят девять", True),
    ("не восемьдесят семь, а восемьдесят девять", True),
    ("восемьдесят семь, то есть восемьдесят девять", True),
    ("ой, 89", True),
    ("нет", False),
    ("ой", False),
    ("не так", False),
    ("восемьдесят девять", False),
    ("да, восемьдесят девять", False),
    ("восемьдесят девять, нет", False),
    ("то есть", False),
    ("", False),
]

# (answer to a read-back, understood as)
YES_NO = [
    ("да", True),
    ("Да.", True),
    ("да да", True),
    ("верно", True),
    ("всё верно", True),
    ("правильно", True),
    ("подтверждаю", True),
    ("так точно", True),
    ("ага", True),
    ("да, правильно", True),
    ("1", True),
    (" 1 ", True),
    ("нет", False),
    ("Нет!", False),
    ("неверно", False),
    ("не верно", False),
    ("не так", False),
    ("не правильно", False),
    ("не то", False),
    ("повторить", False),
    ("повторите пожалуйста", False),
    ("нет, неправильно", False),
    ("нет, восемьдесят девять", False),
    ("2", False),
    ("", None),
    ("э", None),
    ("да нет", None),
    ("нет, всё верно", None),
    ("оператор", None),
    ("3", None),
    ("один", None),
    ("так", None),
    ("не знаю", None),
]

# Read-back of digits: digits, groups for pauses, expected speech.
DIGITS_SPEECH = [
    ("38001", (), "три восемь ноль ноль один"),
    ("0", (), "ноль"),
    ("1234567890", (), "один два три четыре пять шесть семь восемь девять ноль"),
    ("2300012345", (3, 3), "два три ноль — ноль ноль один — два три четыре пять"),
    ("123", (3, 3), "один два три"),
    ("12", (1,), "один — два"),
]

# Read-back of readings: value, expected speech.
READING_SPEECH = [
    ("0", "ноль"),
    ("1", "один"),
    ("2", "два"),
    ("7", "семь"),
    ("21", "двадцать один"),
    ("100", "сто"),
    ("1000", "одна тысяча"),
    ("2025", "две тысячи двадцать пять"),
    ("5000", "пять тысяч"),
    ("11000", "одиннадцать тысяч"),
    ("21001", "двадцать одна тысяча один"),
    ("123.456", "сто двадцать три целых четыреста пятьдесят шесть тысячных"),
    ("1.1", "одна целая одна десятая"),
    ("2.2", "две целых две десятых"),
    ("5.7", "пять целых семь десятых"),
    ("0.12", "ноль целых двенадцать сотых"),
    ("0.5", "ноль целых пять десятых"),
    ("11.11", "одиннадцать целых одиннадцать сотых"),
    ("21.021", "двадцать одна целая двадцать одна тысячная"),
    ("1000.5", "одна тысяча целых пять десятых"),
    ("123.450", "сто двадцать три целых четыреста пятьдесят тысячных"),
    ("123.0", "сто двадцать три"),
    ("1.2300", "одна целая двадцать три сотых"),
    ("1E+2", "сто"),
    (
        "999999.999",
        "девятьсот девяносто девять тысяч девятьсот девяносто девять целых"
        " девятьсот девяносто девять тысячных",
    ),
]


@pytest.mark.parametrize(("text", "expected"), DIGITS)
def test_digits(text, expected):
    assert parse_digits(text) == expected


@pytest.mark.parametrize(("text", "expected"), READINGS)
def test_readings(text, expected):
    assert parse_reading(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "code"), REFUSED_DIGITS)
def test_refused_digits(text, code):
    with pytest.raises(NotUnderstood) as caught:
        parse_digits(text)
    assert caught.value.code == code


@pytest.mark.parametrize(("text", "code"), REFUSED_READINGS)
def test_refused_readings(text, code):
    with pytest.raises(NotUnderstood) as caught:
        parse_reading(text)
    assert caught.value.code == code


@pytest.mark.parametrize(("text", "digits", "reading"), CORRECTIONS + COUNTED_ZEROS + REPEATS)
def test_corrections_zeros_and_repeats(text, digits, reading):
    assert parse_digits(text) == digits
    assert parse_reading(text) == Decimal(reading)


@pytest.mark.parametrize(
    ("text", "reading"), CORRECTED_READINGS + COUNTED_ZEROS_READINGS + REPEATED_READINGS
)
def test_corrections_zeros_and_repeats_in_readings(text, reading):
    assert str(parse_reading(text)) == reading


@pytest.mark.parametrize(("text", "code"), REFUSED_REPEATS)
def test_repeats_are_asked_again_not_glued(text, code):
    for parse in (parse_digits, parse_reading):
        with pytest.raises(NotUnderstood) as caught:
            parse(text)
        assert caught.value.code == code


@pytest.mark.parametrize(("text", "expected"), HAS_CORRECTION)
def test_has_correction(text, expected):
    assert has_correction(text) is expected


def test_repeat_refusals_name_the_numbers_heard():
    with pytest.raises(NotUnderstood) as caught:
        parse_reading("сто пять, сто пять")
    assert caught.value.message == (
        "Я услышал «сто пять» два раза подряд. Назовите число ещё раз, один раз."
    )
    with pytest.raises(NotUnderstood) as caught:
        parse_reading("сто двадцать три четыреста пятьдесят шесть")
    assert caught.value.message.startswith(
        "Я услышал два числа подряд: «сто двадцать три» и «четыреста пятьдесят шесть»."
    )
    with pytest.raises(NotUnderstood) as caught:
        parse_digits("восемьдесят, восемьдесят семь")
    assert caught.value.message.startswith("Я услышал «восемьдесят», а потом «восемьдесят семь».")


def test_a_corrected_account_number_is_checked_for_length():
    text = "два три ноль ноль ноль один два три четыре пять, нет, четыре шесть"
    with pytest.raises(NotUnderstood) as caught:
        parse_digits(text, length=10)
    assert caught.value.code == "wrong_length"


def test_vocabulary_has_the_correction_and_zero_words():
    assert {"нет", "ой", "точнее", "вернее", "то", "есть", "смысле", "а", "не"} <= vocabulary()
    assert {"нуля", "нулей", "нолей"} <= vocabulary()


def test_phrase_tables_are_distinct():
    phrases = [text for text, _ in DIGITS + READINGS + REFUSED_DIGITS + REFUSED_READINGS]
    assert len(set(phrases)) >= 200


def test_reading_keeps_the_precision_dictated():
    assert str(parse_reading("сто двадцать три запятая четыреста пятьдесят")) == "123.450"
    assert str(parse_reading("ноль ноль семь")) == "7"


def test_account_of_the_expected_length_is_accepted():
    text = "двадцать три ноль ноль ноль один двадцать три сорок пять"
    assert parse_digits(text, length=10) == "2300012345"


def test_too_few_digits_for_an_account_are_refused_not_padded():
    with pytest.raises(NotUnderstood) as caught:
        parse_digits("двадцать три", length=10)
    assert caught.value.code == "wrong_length"
    assert caught.value.message.startswith("Нужно назвать 10 цифр, а я услышал 2.")


def test_too_many_decimals_can_be_allowed():
    assert parse_reading("один запятая два три четыре пять", max_decimals=4) == Decimal("1.2345")


def test_not_understood_is_a_value_error_with_a_russian_message():
    with pytest.raises(ValueError, match="две запятые") as caught:
        parse_reading("сто запятая два запятая три")
    assert isinstance(caught.value, NotUnderstood)
    assert caught.value.message == str(caught.value)


def test_unclear_word_is_named_in_the_message():
    with pytest.raises(NotUnderstood) as caught:
        parse_reading("сто кошка двадцать три")
    assert "«кошка»" in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Сто Двадцать Три", "сто двадцать три"),
        ("ТРЁХСОТ, ёлки!", "трехсот елки"),
        ("123,456", "123 запятая 456"),
        ("12.5 куба", "12 запятая 5 куба"),
        ("123кубов", "123 кубов"),
        ("нуль адин", "ноль один"),
        ("12, 34.", "12 34"),
        ("  ", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_yes_no(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize(("digits", "groups", "expected"), DIGITS_SPEECH)
def test_digits_to_speech(digits, groups, expected):
    assert digits_to_speech(digits, groups=groups) == expected


@pytest.mark.parametrize("digits", ["", "12a", "1 2", "١٢"])
def test_digits_to_speech_refuses_non_digits(digits):
    with pytest.raises(ValueError, match="Not a string of digits"):
        digits_to_speech(digits)


@pytest.mark.parametrize(("value", "expected"), READING_SPEECH)
def test_reading_to_speech(value, expected):
    assert reading_to_speech(Decimal(value)) == expected


@pytest.mark.parametrize("value", ["-1", "1000000", "NaN", "Infinity", "0.0001"])
def test_reading_to_speech_refuses_what_cannot_be_read_back(value):
    with pytest.raises(ValueError, match=r"Cannot say|at most three"):
        reading_to_speech(Decimal(value))


def _reading_values() -> list[Decimal]:
    whole = [*range(1200), 1999, 2000, 2001, 2025, 10000, 10101, 21001, 99999, 100000, 123456]
    fractions = [
        Decimal(f"{integer}.{fraction:0{places}d}")
        for integer in (0, 1, 2, 5, 11, 21, 101, 1000, 2345, 21000, 999999)
        for places in (1, 2, 3)
        for fraction in range(1, 10**places, 1 if places < 3 else 7)
    ]
    return [Decimal(n) for n in whole] + fractions


def test_readings_round_trip_through_speech():
    values = _reading_values()
    assert len(values) > 3000
    wrong = [v for v in values if parse_reading(reading_to_speech(v)) != v]
    assert wrong == []


def test_readings_round_trip_through_figures():
    wrong = [
        v
        for v in _reading_values()
        if parse_reading(str(v)) != v or parse_reading(str(v).replace(".", ",")) != v
    ]
    assert wrong == []


def test_digits_round_trip_through_speech():
    rng = random.Random(20250301)
    samples = ["0", "00", "007", "38001", "2300012345", "0000000000"]
    samples += [
        "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))) for _ in range(500)
    ]
    wrong = [d for d in samples if parse_digits(digits_to_speech(d)) != d]
    wrong += [d for d in samples if parse_digits(digits_to_speech(d, groups=(3, 3))) != d]
    assert wrong == []


# --- Bounds: numbers longer than any account or reading are refused, never int()-ed ----------

HUGE = "1" * 5000  # beyond Python's int() limit of 4300 digits: a ValueError before the bound
TOO_MANY_DIGITS = [
    HUGE,
    f"лицевой счёт {HUGE}",
    f"1 запятая {HUGE}",
    f"{HUGE} запятая 5",
    " ".join(["девять"] * 5000),  # words: 5000 groups joined into one integer
    " ".join(["1"] * 5000),
    " ".join(["девять"] * (MAX_DIGITS + 1)),
    "1" * (MAX_DIGITS + 1),
    "двадцать три сорок пять " * 6,  # 24 digits dictated in pairs
]


@pytest.mark.parametrize("text", TOO_MANY_DIGITS, ids=lambda text: f"{len(text)}-chars")
def test_numbers_longer_than_any_account_or_reading_are_refused(text):
    for parse in (parse_digits, parse_reading):
        with pytest.raises(NotUnderstood) as caught:
            parse(text)
        assert caught.value.code == "too_many_digits"
        assert caught.value.message == (
            "Я услышал слишком много цифр. Назовите, пожалуйста, только одно число."
        )


def test_an_account_number_with_far_too_many_digits_is_refused_in_words():
    with pytest.raises(NotUnderstood) as caught:
        parse_digits(HUGE, length=10)
    assert caught.value.code == "too_many_digits"


def test_the_digit_bound_leaves_room_for_every_real_number():
    assert parse_digits("9" * MAX_DIGITS) == "9" * MAX_DIGITS
    assert parse_digits(" ".join(["девять"] * MAX_DIGITS)) == "9" * MAX_DIGITS
    assert parse_reading(f"{'9' * MAX_DIGITS} запятая 999") == Decimal(f"{'9' * MAX_DIGITS}.999")
    with pytest.raises(NotUnderstood) as caught:  # a near miss still says how many were heard
        parse_digits("1" * 12, length=10)
    assert caught.value.code == "wrong_length"


def test_long_answers_do_not_break_the_yes_no_and_correction_checks():
    assert parse_yes_no(f"да {HUGE}") is True
    assert has_correction(f"нет {HUGE}") is True
