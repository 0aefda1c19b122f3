"""Numbers in recognised Russian speech: understanding them, and saying them back.

The phone line (docs/phone-line.md §3) gets from the telephony side the text a speech
recogniser heard: "э значит сто двадцать три запятая пять", "12 34", "ноль ноль семь". This module
turns that text into the digits of an account number or a meter serial (`parse_digits`) and into
a meter reading (`parse_reading`), and produces the Russian text the line reads back
(`digits_to_speech`, `reading_to_speech`). Pure functions: no ORM, no settings, no I/O.

Anything that cannot be understood without guessing raises `NotUnderstood` (a `ValueError`) with
a stable `code` and a short Russian `message` the dialog can say before asking again.

Pipeline
--------
1. `normalise`: lower case, "ё" -> "е", a decimal mark between figures ("123,456", "123.456")
   becomes the word "запятая", other punctuation is dropped, letters and figures are split
   apart, and common recogniser spellings map to the dictionary form ("нуль" -> "ноль",
   "адин" -> "один", "шест" -> "шесть", "тыща" -> "тысяча").
   A self-correction keeps only what follows it (see "Corrections" below).
2. Each word is looked up in the tables below: a number word in any case and gender, a figure,
   a structural word (decimal separator, denominator, "тысяча", "полтора", "с половиной"), or a
   noise word ("э", "так", "значит", "номер", "показания", ...), which is dropped.
   - An unknown word that looks like a number word (an ordinal such as "третий", "миллион",
     "сотня", "полтораста", "минус") is refused: `unknown_number_word`.
   - Any other unknown word is dropped at the edges of the phrase ("мне кажется сто"), but
     refused between two numbers ("сто кошка пять"): `unclear_word`. A word the recogniser got
     wrong in the middle of a number must not silently vanish.
   - "и" and volume nouns ("куба", "кубометров", "кубических метров") are separators only
     between two numbers; elsewhere they are noise ("ну и сто двадцать три кубов").
   "три нуля" (a count of zeros) becomes one token of three zero digits (see "Counted zeros").
3. Number words are read into groups (grammar below); a group that restates the one before it
   replaces it, and two whole numbers side by side are refused (see "Repeats and restarts").
4. `parse_digits` concatenates the groups; `parse_reading` builds one `Decimal`.

Corrections
-----------
A caller who corrects himself is taken at his last word: everything up to the last correction
word is dropped, and the number after it is read alone. Correction words: "нет", "ой",
"точнее", "вернее", "то есть", "в смысле", "не так", "неправильно", "неверно", "извините",
"простите", "ошибся", "ошиблась", "поправка", "стоп"; and "а" after "не <number>" ("не
восемьдесят семь, а восемьдесят девять"). So "восемьдесят семь, нет, восемьдесят девять" -> 89,
"сто, ой, двести, точнее двести десять" -> 210, "нет, восемьдесят девять" -> 89. A correction
with no number after it ("восемьдесят семь, нет") is refused: `correction_without_number`: the
number before it was withdrawn and nothing replaced it. `has_correction` tells the dialog that
an answer to a read-back holds a correction ("ой, восемьдесят девять").

Counted zeros
-------------
People shorten a run of zeros: "три нуля пять" is "0005", "два нуля" is "00", "пять нулей
семь" is "000007". The count is one digit, two to four before "нуля"/"ноля", five to nine
before "нулей"/"нолей", as Russian grammar has it. "один ноль" stays the digits "10": dictated
digit by digit it is far more common than a count of one. Refused as `ambiguous_zeros`: a count
that does not agree ("пять нуля", "два нулей"), "нулей" with no count, and a count that could
also end the number before it ("двадцать три нуля": 20 and 000, or 23 zeros?). "нуля" after no
number at all is an ordinary zero ("нуля пять" -> "05"). In readings the zeros are dictated
digits like any others: "один три нуля" is 1000, "запятая два нуля пять" is .005.

Repeats and restarts
--------------------
Pairs and digits are dictation ("двадцать три сорок пять" -> 2345, "девяносто девять девяносто
девять" -> 9999, "семь семь семь" -> 777), so they are concatenated even when they repeat. But
a pair that says the one before it again and goes on is refused as `ambiguous_restart`:
"восемьдесят, восемьдесят семь" is 87 after a hesitation, or 8087 read in pairs. A number said
with hundreds or "тысяча" is a whole number, not a piece of dictation (docs/phone-line.md §3 dictates digits
and pairs), and two of them side by side are never glued together:
- the second restates the first and goes on ("двести… двести сорок", "две тысячи, две тысячи
  двадцать пять", "сто двадцать, сто двадцать три"): a hesitation, the second wins (240, 2025,
  123). The read-back confirms it before anything is stored;
- the same number twice ("сто пять сто пять", "сто сто"): a repeat for clarity, or 105105
  dictated in triples? Refused: `repeated_number`;
- two different numbers ("сто двести", "сто двадцать три четыреста пятьдесят шесть",
  "двести сорок, двести"): refused as `two_numbers`; with a correction word between them the
  correction rule applies instead.
Words are compared by value, so "двести" and "двухсот", "одна" and "один" restate each other.
Figures from the recogniser ("2 300 012 345") are its own grouping of digits and are not
compared.

Grammar of a group
------------------
Greedy, left to right: a new group starts whenever the next word cannot extend the current one.

    group := small | [small] "тысяча" [small]      ("тысяча" alone is 1000)
    small := hundreds [tens [unit] | teen | unit]
           | tens [unit] | teen | unit | "ноль" | figure

- "двадцать три" is one group, 23; "сто двадцать" + "три" is 123; "сто три" is 103.
- "двадцать" + "тридцать" are two groups, "2030"; "двадцать" + "ноль" is "200" ("ноль" never
  extends a group, and nothing extends "ноль": "ноль семь" is "07").
- "тысяча" multiplies the group said just before it, once ("двадцать пять тысяч"), and a small
  number may follow it: "две тысячи двадцать пять" is 2025, "тысяча двести" is 1200.
  "ноль тысяч", "тысяча тысяч" and "две тысячи пять тысяч" are refused: `thousand_misplaced`;
  but in "две тысячи две тысячи" the second "две" starts a new group (a restart, see above).
- A figure is a group as written, leading zeros kept ("007"). A figure of one to three digits
  without a leading zero may also be multiplied by "тысяча" or fill the part after it, because
  recognisers mix figures and words: "2 тысячи 25" is 2025.
- Half: "полтора"/"полторы"/"полутора" is 1.5 and "N с половиной" is N + 0.5; either may be
  multiplied by "тысяча" ("полторы тысячи" 1500, "две с половиной тысячи" 2500), and
  "тысяча с половиной" / "две тысячи с половиной" are 1500 / 2500. "сто с половиной" (100.5 or
  colloquially 150?) is refused: `ambiguous_half`. "полтораста" is refused as an unknown
  number word. A half that is not a whole number is refused in digits: `not_digits`.

Digits (`parse_digits`)
-----------------------
The digits of all groups are concatenated: "двадцать три сорок пять" -> "2345", "сто двадцать
три" -> "123", "ноль ноль семь" -> "007", "два нуля семь" -> "007", "лицевой счёт 2300012345" ->
"2300012345". "и" between numbers is a connective and is dropped. Decimal separators,
denominators and fractional halves are refused (`not_digits`). With `length=`, a different
number of digits is refused (`wrong_length`): "двадцать три" where ten digits are expected is
re-asked, never padded.

Readings (`parse_reading`)
--------------------------
- Integer part: one group, or several groups concatenated like the digits, because people read
  a meter's drum in pairs ("двадцать три сорок пять" -> 2345) or digit by digit ("ноль ноль
  семь" -> 7, leading zeros dropped). The read-back before storing confirms the value. A group
  built with "тысяча" or a half is arithmetic, so concatenating it with other groups is refused:
  "две тысячи двадцать пять сорок" -> `ambiguous_groups`.
- Exactly one decimal separator: "запятая", "точка", a decimal mark between figures, "целых"
  (any form, optionally followed by "и"), or "и" / a volume noun between numbers. Two
  separators are refused: `two_separators`.
- After "запятая", "точка", "и" and "целых" the fraction is dictated digits, zeros kept:
  "запятая ноль пять" -> .05, "и сорок пять" -> .45, colloquial "ноль целых пять" -> 0.5. At most
  `max_decimals` (3, litres) digits: `too_many_decimals`.
- A denominator word ("десятых", "сотых", "тысячных", any form; "литров" counts as thousandths
  of a cubic metre) must end the phrase, and its numerator must fit it: "пять целых семь
  десятых" -> 5.7, "ноль целых двенадцать сотых" -> 0.12, but "пять целых двадцать три десятых"
  is refused: `fraction_too_long`. Without a separator the denominator's number is the whole
  value ("пять десятых" -> 0.5, "четыреста литров" -> 0.4); with numbers before it, it is
  refused ("сто двадцать три пять десятых": `missing_separator`).
- A volume noun between numbers needs a denominator after it: "сто двадцать три куба четыреста
  литров" -> 123.4, but "сто двадцать три куба четыреста" (litres? tenths?) is refused:
  `missing_denominator`.
- "тысяча и пять" (1005 or 1000.5?) is refused: `ambiguous_and`; "тысяча и пять десятых" is
  1000.5.
- The returned Decimal keeps the precision dictated: "запятая четыреста пятьдесят" -> 123.450.

Bounds
------
No account number (10 digits) or reading (12 digits with the decimals) is longer than
MAX_DIGITS (20) digits, so a longer number is refused as `too_many_digits` before it is turned
into an int: a figure of more digits, more than MAX_NUMBER_WORDS number words in one answer, or
groups that add up to more digits (in `parse_digits`, and in each part of a reading). Python's
int() of a string is slow for thousands of digits and refuses more than 4300.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from vodokanal.common.russian import plural_ru

__all__ = [
    "NotUnderstood",
    "digits_to_speech",
    "has_correction",
    "normalise",
    "parse_digits",
    "parse_reading",
    "parse_yes_no",
    "reading_to_speech",
    "vocabulary",
]

# --- Errors ---------------------------------------------------------------------------------

# User-facing: the dialog says these before asking again.
_MESSAGES: dict[str, str] = {
    "empty": "Я ничего не услышал. Повторите, пожалуйста.",
    "no_numbers": "Я не услышал чисел. Назовите, пожалуйста, ещё раз.",
    "unknown_number_word": "Я не понял слово «{word}». Назовите число ещё раз, например: сто двадцать три.",
    "unclear_word": "Я не понял слово «{word}» между числами. Повторите, пожалуйста, только число.",
    "not_digits": "Здесь нужны только цифры, без запятых и дробей. Назовите номер по цифрам.",
    "wrong_length": "Нужно назвать {expected} {digits_word}, а я услышал {actual}. Повторите номер по цифрам.",
    "thousand_misplaced": "Я не понял, к чему относится слово «тысяча». Назовите число ещё раз.",
    "half_misplaced": "Я не понял, к чему относится половина. Назовите число ещё раз.",
    "ambiguous_half": "«{word} с половиной» можно понять по-разному. Назовите число точно.",
    "ambiguous_groups": "Я не понял, как соединить числа. Назовите показание одним числом или по цифрам.",
    "ambiguous_and": "Я не понял «и» после слова «тысяча». Скажите «запятая» или назовите число целиком.",
    "two_separators": "Я услышал две запятые. Назовите показание ещё раз.",
    "missing_integer": "Я не услышал целую часть. Назовите показание ещё раз.",
    "missing_fraction": "Я не услышал, что идёт после запятой. Назовите показание ещё раз.",
    "missing_separator": "Я не понял, где целая часть, а где дробная. Скажите, например: сто двадцать три запятая пять.",
    "missing_denominator": "Я не понял дробную часть. Скажите, например: сто двадцать три куба четыреста литров.",
    "fraction_misplaced": "Я не понял дробную часть. Скажите, например: пять целых семь десятых.",
    "fraction_too_long": "Дробь не сходится: в десятых одна цифра, в сотых две, в тысячных три. Повторите, пожалуйста.",
    "too_many_decimals": "После запятой слишком много цифр. Назовите показание ещё раз.",
    "correction_without_number": "Я не услышал число после исправления. Назовите число ещё раз.",
    "ambiguous_zeros": "Я не понял, сколько нулей. Назовите цифры по одной, например: ноль ноль пять.",
    "repeated_number": "Я услышал «{number}» два раза подряд. Назовите число ещё раз, один раз.",
    "ambiguous_restart": "Я услышал «{first}», а потом «{second}». Назовите число ещё раз: одним числом или по цифрам.",
    "two_numbers": "Я услышал два числа подряд: «{first}» и «{second}». Назовите одно число или продиктуйте его по цифрам.",
    "too_many_digits": "Я услышал слишком много цифр. Назовите, пожалуйста, только одно число.",
}

# No number the line asks for is longer (see "Bounds" in the module docstring).
MAX_DIGITS = 20
MAX_NUMBER_WORDS = 3 * MAX_DIGITS  # "сто двадцать три" is three words for three digits


class NotUnderstood(ValueError):  # noqa: N818 - the name the dialog and docs/phone-line.md §3
    """The text cannot be understood without guessing; the dialog re-asks.

    `code` is stable (tests and the call log use it), `message` is Russian, for the caller."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        self.message = _MESSAGES[code].format(**params)
        super().__init__(self.message)


# --- Word tables ----------------------------------------------------------------------------


class _Kind(enum.Enum):
    ZERO = "zero"
    UNIT = "unit"  # 1..9
    TEEN = "teen"  # 10..19
    TENS = "tens"  # 20..90
    HUNDREDS = "hundreds"  # 100..900
    THOUSAND = "thousand"
    FIGURE = "figure"  # digits written as figures by the recogniser
    ZEROS = "zeros"  # "три нуля": `value` zero digits
    ONE_AND_HALF = "one_and_half"  # полтора
    HALF = "half"  # (с) половиной
    SEPARATOR = "separator"  # запятая, точка, целых
    AND = "and"  # и: a separator only between numbers
    VOLUME = "volume"  # куба, кубометров: a separator only between numbers, needs litres
    DENOMINATOR = "denominator"  # десятых, сотых, тысячных, литров
    UNKNOWN = "unknown"


_ZERO = ("ноль", "ноля", "нолю", "нолем", "нуля", "нулю", "нулем", "нулей", "нолей")
# A count of zeros ("три нуля", "пять нулей"): the form of "ноль" after the count -> the counts
# it agrees with (see "Counted zeros" in the module docstring).
_COUNTED_ZEROS: dict[str, range] = {
    **dict.fromkeys(("нуля", "ноля"), range(2, 5)),
    **dict.fromkeys(("нулей", "нолей"), range(5, 10)),
}

# Every case and gender of a cardinal number word -> its value.
_UNITS: dict[int, tuple[str, ...]] = {
    1: ("один", "одна", "одно", "одну", "одного", "одной", "одному", "одним", "одном", "одною"),
    2: ("два", "две", "двух", "двум", "двумя"),
    3: ("три", "трех", "трем", "тремя"),
    4: ("четыре", "четырех", "четырем", "четырьмя"),
    5: ("пять", "пяти", "пятью"),
    6: ("шесть", "шести", "шестью"),
    7: ("семь", "семи", "семью"),
    8: ("восемь", "восьми", "восемью", "восьмью"),
    9: ("девять", "девяти", "девятью"),
}
_TEENS: dict[int, tuple[str, ...]] = {
    10: ("десять", "десяти", "десятью"),
    11: ("одиннадцать", "одиннадцати", "одиннадцатью"),
    12: ("двенадцать", "двенадцати", "двенадцатью"),
    13: ("тринадцать", "тринадцати", "тринадцатью"),
    14: ("четырнадцать", "четырнадцати", "четырнадцатью"),
    15: ("пятнадцать", "пятнадцати", "пятнадцатью"),
    16: ("шестнадцать", "шестнадцати", "шестнадцатью"),
    17: ("семнадцать", "семнадцати", "семнадцатью"),
    18: ("восемнадцать", "восемнадцати", "восемнадцатью"),
    19: ("девятнадцать", "девятнадцати", "девятнадцатью"),
}
_TENS: dict[int, tuple[str, ...]] = {
    20: ("двадцать", "двадцати", "двадцатью"),
    30: ("тридцать", "тридцати", "тридцатью"),
    40: ("сорок", "сорока"),
    50: ("пятьдесят", "пятидесяти", "пятьюдесятью"),
    60: ("шестьдесят", "шестидесяти", "шестьюдесятью"),
    70: ("семьдесят", "семидесяти", "семьюдесятью"),
    80: ("восемьдесят", "восьмидесяти", "восемьюдесятью"),
    90: ("девяносто", "девяноста"),
}
_HUNDREDS: dict[int, tuple[str, ...]] = {
    100: ("сто", "ста"),
    200: ("двести", "двухсот", "двумстам", "двумястами", "двухстах"),
    300: ("триста", "трехсот", "тремстам", "тремястами", "трехстах"),
    400: ("четыреста", "четырехсот", "четыремстам", "четырьмястами", "четырехстах"),
    500: ("пятьсот", "пятисот", "пятистам", "пятьюстами", "пятистах"),
    600: ("шестьсот", "шестисот", "шестистам", "шестьюстами", "шестистах"),
    700: ("семьсот", "семисот", "семистам", "семьюстами", "семистах"),
    800: ("восемьсот", "восьмисот", "восьмистам", "восьмьюстами", "восемьюстами", "восьмистах"),
    900: ("девятьсот", "девятисот", "девятистам", "девятьюстами", "девятистах"),
}
_THOUSAND = (
    *("тысяча", "тысячи", "тысяч", "тысячу", "тысячей", "тысячью", "тысяче", "тысячам"),
    *("тысячами", "тысячах"),
)
_ONE_AND_HALF = ("полтора", "полторы", "полутора")
_HALF = ("половиной", "половинкой")
_SEPARATORS = ("запятая", "запятой", "точка", "целых", "целая", "целой", "целую", "целые")
_VOLUMES = (
    *("куб", "куба", "кубов", "кубик", "кубика", "кубиков", "кубометр", "кубометра", "кубометров"),
    *("кубический", "кубических", "кубического", "метр", "метра", "метров"),
)
# Denominator word -> number of decimal places.
_DENOMINATORS: dict[int, tuple[str, ...]] = {
    1: ("десятая", "десятых", "десятой", "десятую", "десятые", "десятыми"),
    2: ("сотая", "сотых", "сотой", "сотую", "сотые", "сотыми"),
    3: ("тысячная", "тысячных", "тысячной", "тысячную", "тысячные", "тысячными"),
}
# Litres are thousandths of a cubic metre: "сто двадцать три куба четыреста литров".
_LITRES = ("литр", "литра", "литров")

# Fillers and the words of the domain that carry no number. Unknown words are dropped at the
# edges anyway; this list matters between numbers ("двадцать три э сорок пять").
_NOISE = frozenset(
    (
        # fillers
        *("э", "ээ", "эээ", "эм", "мм", "ммм", "м", "а", "ну", "вот", "так", "значит", "это"),
        *("этот", "эта", "там", "тут", "сейчас", "щас", "короче", "типа", "вроде", "примерно"),
        *("где", "то", "получается", "скажем", "говорю", "скажу", "диктую", "пишите"),
        *("запишите", "записывайте", "еще", "потом", "дальше", "далее", "ровно", "всего", "все"),
        *("с", "по", "у", "меня", "мне", "пожалуйста", "спасибо", "алло", "девушка"),
        # dictation
        *("тире", "дефис", "пробел", "следующие", "следующая", "последние", "оканчивается"),
        *("заканчивается", "цифры", "цифр", "цифра", "цифрами", "номер", "номера", "номером"),
        # the domain
        *("мой", "моя", "мое", "мои", "моего", "моей", "наш", "наша", "абонент", "абонентский"),
        *("показания", "показание", "показаний", "показанием", "лицевой", "лицевого", "лицевому"),
        *("счетчик", "счетчика", "счетчиков", "счетчике", "счет", "счета", "счету"),
        *("воды", "вода", "холодной", "горячей", "холодная", "горячая", "холодную", "горячую"),
    )
)

# Recogniser spellings -> dictionary form (docs/phone-line.md §3: "ноль"/"нуль", "один"/"адин", "шесть"/"шест").
_SPELLINGS: dict[str, str] = {
    "нуль": "ноль",
    "адин": "один",
    "адна": "одна",
    "адну": "одну",
    "шест": "шесть",
    "сем": "семь",
    "восем": "восемь",
    "девят": "девять",
    "пят": "пять",
    "читыре": "четыре",
    "чатыре": "четыре",
    "двеннадцать": "двенадцать",
    "адиннадцать": "одиннадцать",
    "сорак": "сорок",
    "тыща": "тысяча",
    "тыщи": "тысячи",
    "тыщ": "тысяч",
    "тыщу": "тысячу",
}

# Self-corrections: what follows the last of them replaces what was said before it.
_CORRECTIONS = frozenset(
    (
        *("нет", "неа", "ой", "точнее", "вернее", "неправильно", "неверно", "извините"),
        *("извиняюсь", "простите", "ошибся", "ошиблась", "поправка", "поправлюсь", "стоп"),
    )
)
_CORRECTION_PAIRS = frozenset((("то", "есть"), ("в", "смысле"), ("не", "так")))
_NEGATION, _BUT = "не", "а"  # "не восемьдесят семь, а восемьдесят девять"

# An unknown word starting like a number word is a number we cannot read (an ordinal, a
# collective, "миллион", "сотня", a sign): refuse it rather than drop a part of the number.
_NUMBER_ROOT = re.compile(
    r"^(?:нулев|перв|втор|трет|четв|пят|шест|седьм|восьм|девят|десят|\w*надцат|двадцат"
    r"|тридцат|сорок|семидесят|девяност|двухсот|трехсот|четырехсот|семисот|сот|тысяч"
    r"|миллион|миллиард|полтор|двое|трое|минус)"
)

_WORDS: dict[str, tuple[_Kind, int]] = {
    **dict.fromkeys(_ZERO, (_Kind.ZERO, 0)),
    **{word: (_Kind.UNIT, value) for value, words in _UNITS.items() for word in words},
    **{word: (_Kind.TEEN, value) for value, words in _TEENS.items() for word in words},
    **{word: (_Kind.TENS, value) for value, words in _TENS.items() for word in words},
    **{word: (_Kind.HUNDREDS, value) for value, words in _HUNDREDS.items() for word in words},
    **dict.fromkeys(_THOUSAND, (_Kind.THOUSAND, 1000)),
    **dict.fromkeys(_ONE_AND_HALF, (_Kind.ONE_AND_HALF, 1)),
    **dict.fromkeys(_HALF, (_Kind.HALF, 0)),
    **dict.fromkeys(_SEPARATORS, (_Kind.SEPARATOR, 0)),
    "и": (_Kind.AND, 0),
    **dict.fromkeys(_VOLUMES, (_Kind.VOLUME, 0)),
    **{word: (_Kind.DENOMINATOR, n) for n, words in _DENOMINATORS.items() for word in words},
    **dict.fromkeys(_LITRES, (_Kind.DENOMINATOR, 3)),
}

_NUMERIC = frozenset(
    (
        _Kind.ZERO,
        _Kind.UNIT,
        _Kind.TEEN,
        _Kind.TENS,
        _Kind.HUNDREDS,
        _Kind.THOUSAND,
        _Kind.FIGURE,
        _Kind.ZEROS,
        _Kind.ONE_AND_HALF,
    )
)


# --- Normalising and classifying words ------------------------------------------------------

_DECIMAL_MARK = re.compile(r"(?<=\d)[.,](?=\d)")
_NOT_A_WORD = re.compile(r"[^0-9а-я]+")
_LETTERS_AND_FIGURES = re.compile(r"[0-9]+|[а-я]+")


def normalise(text: str) -> str:
    """Lower case, "ё" -> "е", punctuation out, figures apart, recogniser spellings fixed.

    A decimal mark between figures survives as the word "запятая": "123,5" -> "123 запятая 5".
    Noise words are kept: which words matter depends on the question."""
    text = text.lower().replace("ё", "е")
    text = _DECIMAL_MARK.sub(" запятая ", text)
    text = _NOT_A_WORD.sub(" ", text)
    words = _LETTERS_AND_FIGURES.findall(text)
    return " ".join(_SPELLINGS.get(word, word) for word in words)


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    value: int
    word: str


def _classify(word: str) -> _Token | None:
    """The token for one normalised word, or None for a noise word."""
    if word.isdigit():
        if len(word) > MAX_DIGITS:  # before int(): see "Bounds"
            raise NotUnderstood("too_many_digits")
        return _Token(_Kind.FIGURE, int(word), word)
    if word in _WORDS:
        kind, value = _WORDS[word]
        return _Token(kind, value, word)
    if word in _NOISE:
        return None
    if _NUMBER_ROOT.match(word):
        raise NotUnderstood("unknown_number_word", word=word)
    return _Token(_Kind.UNKNOWN, 0, word)


def _numberlike(word: str) -> bool:
    """Whether a normalised word is (or tries to be) a number: a figure, a number word, or an
    unknown word with a number's root ("третий"), which `_classify` refuses."""
    if word.isdigit():
        return True
    if word in _WORDS:
        return _WORDS[word][0] in _NUMERIC
    return word not in _NOISE and bool(_NUMBER_ROOT.match(word))


def _correction_end(words: Sequence[str]) -> int | None:
    """The index just after the last correction word of the phrase, or None without one."""
    end = None
    negated = False  # "не" before a number was said: a later "а" corrects it
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if (word, following) in _CORRECTION_PAIRS:
            end = i + 2
        elif word in _CORRECTIONS or (word == _BUT and negated):
            end = i + 1
        elif word == _NEGATION and _numberlike(following):
            negated = True
    return end


def _after_correction(words: list[str]) -> list[str]:
    """The words the caller meant: those after the last correction word, if any."""
    end = _correction_end(words)
    if end is None:
        return words
    withdrawn, meant = words[:end], words[end:]
    if any(map(_numberlike, withdrawn)) and not any(map(_numberlike, meant)):
        raise NotUnderstood("correction_without_number")
    return meant


def has_correction(text: str) -> bool:
    """Whether the text holds a self-correction ("ой", "точнее", "нет", "не так", ...) followed
    by a number: the dialog takes such an answer to a read-back as a new number to confirm."""
    words = normalise(text).split()
    end = _correction_end(words)
    return end is not None and any(map(_numberlike, words[end:]))


def _is_count(token: _Token) -> bool:
    return token.kind is _Kind.UNIT or (token.kind is _Kind.FIGURE and len(token.word) == 1)


def _count_zeros(tokens: Sequence[_Token]) -> list[_Token]:
    """Merge a count and the zero after it ("три нуля") into one token of that many zeros."""
    merged: list[_Token] = []
    for token in tokens:
        agrees = _COUNTED_ZEROS.get(token.word) if token.kind is _Kind.ZERO else None
        if agrees is None:
            merged.append(token)
            continue
        count = merged[-1] if merged else None
        if count is None or not _is_count(count):
            if token.word in ("нулей", "нолей"):  # "нулей" is only ever counted
                raise NotUnderstood("ambiguous_zeros")
            merged.append(token)  # "нуля пять": an ordinary zero
            continue
        before = merged[-2] if len(merged) > 1 else None
        # "двадцать три нуля": 20 and 000, or 23 zeros? "сто два нуля", "тысяча три нуля" too.
        extends = before is not None and (
            before.kind is _Kind.THOUSAND
            or (count.kind is _Kind.UNIT and before.kind in (_Kind.HUNDREDS, _Kind.TENS))
        )
        if count.value not in agrees or extends:
            raise NotUnderstood("ambiguous_zeros")
        merged[-1] = _Token(_Kind.ZEROS, count.value, f"{count.word} {token.word}")
    return merged


def _tokens(text: str) -> list[_Token]:
    """Meaningful tokens of the text; unknown words dropped at the edges, refused between numbers.

    Only the words after the last self-correction count; counted zeros are merged."""
    words = normalise(text).split()
    if not words:
        raise NotUnderstood("empty")
    words = _after_correction(words)
    tokens = [token for word in words if (token := _classify(word))]
    numeric = [i for i, token in enumerate(tokens) if token.kind in _NUMERIC]
    if not numeric:
        raise NotUnderstood("no_numbers")
    if len(numeric) > MAX_NUMBER_WORDS:
        raise NotUnderstood("too_many_digits")
    for token in tokens[numeric[0] : numeric[-1]]:
        if token.kind is _Kind.UNKNOWN:
            raise NotUnderstood("unclear_word", word=token.word)
    return _count_zeros([token for token in tokens if token.kind is not _Kind.UNKNOWN])


def _resolve_soft_separators(tokens: Sequence[_Token]) -> list[_Token]:
    """Turn "и" and volume nouns between two numbers into separators; drop them elsewhere.

    "целых и" and "кубических метра" collapse into one separator."""
    resolved: list[_Token] = []
    for i, token in enumerate(tokens):
        if token.kind not in (_Kind.AND, _Kind.VOLUME):
            resolved.append(token)
            continue
        after = next((t for t in tokens[i + 1 :] if t.kind not in (_Kind.AND, _Kind.VOLUME)), None)
        between_numbers = (
            bool(resolved)
            and resolved[-1].kind in _NUMERIC
            and after is not None
            and after.kind in _NUMERIC
        )
        if between_numbers:
            resolved.append(token)
    return resolved


# --- Groups ---------------------------------------------------------------------------------

# Which slot a word fills in a number below a thousand; a word extends the group only if its
# rank is lower than the rank of the group's last word ("сто" 3 > "двадцать" 2 > "три" 1).
_RANK = {_Kind.HUNDREDS: 3, _Kind.TENS: 2, _Kind.TEEN: 2, _Kind.UNIT: 1}
_OPEN_AFTER_THOUSAND = 4  # after "тысяча" any of hundreds, tens, a teen or a unit may follow
_CLOSED = 0


@dataclass
class _Group:
    """One number being read: `high` thousands (if "тысяча" was said) plus `low`."""

    low: int = 0
    text: str = ""  # the figure as written, or "0" for "ноль": keeps leading zeros
    rank: int = _CLOSED
    high: Decimal | None = None
    half: bool = False
    tokens: list[_Token] = field(default_factory=list)  # the words of the group, as said

    @property
    def value(self) -> Decimal:
        high = self.high * 1000 if self.high is not None else Decimal(0)
        return high + self.low + (Decimal("0.5") if self.half else 0)

    @property
    def compound(self) -> bool:
        return self.high is not None

    @property
    def whole_number(self) -> bool:
        """Said with hundreds or "тысяча": a number of its own, not a piece of dictation."""
        return self.compound or any(t.kind is _Kind.HUNDREDS for t in self.tokens)

    @property
    def said(self) -> tuple[tuple[_Kind | int, ...], ...]:
        """The words by value, so that "двести" restates "двухсот" and "одна" "один"."""
        return tuple(_said(token) for token in self.tokens)

    @property
    def words(self) -> str:
        return " ".join(token.word for token in self.tokens)

    @property
    def digits(self) -> str:
        if self.high is None and self.text:
            return self.text
        return str(int(self.value)) if self.whole else str(self.value)

    @property
    def whole(self) -> bool:
        return self.value == self.value.to_integral_value()


def _said(token: _Token) -> tuple[_Kind | int, ...]:
    if token.kind in (_Kind.THOUSAND, _Kind.HALF, _Kind.ONE_AND_HALF, _Kind.ZEROS):
        return (token.kind, token.value)
    return (token.value,)


def _small_figure(token: _Token) -> bool:
    """A figure that can act as a number word: 1-3 digits, no leading zero."""
    return len(token.word) <= 3 and not token.word.startswith("0")


def _start(token: _Token) -> _Group:
    kind = token.kind
    if kind is _Kind.THOUSAND:
        return _Group(high=Decimal(1), rank=_OPEN_AFTER_THOUSAND, tokens=[token])
    if kind is _Kind.HALF:
        raise NotUnderstood("half_misplaced")
    if kind is _Kind.ONE_AND_HALF:
        return _Group(low=1, half=True, tokens=[token])
    if kind is _Kind.ZERO:
        return _Group(text="0", tokens=[token])
    if kind is _Kind.ZEROS:
        return _Group(text="0" * token.value, tokens=[token])
    if kind is _Kind.FIGURE:
        return _Group(low=token.value, text=token.word, tokens=[token])
    rank = _CLOSED if kind is _Kind.TEEN else _RANK[kind]
    return _Group(low=token.value, rank=rank, tokens=[token])


def _multiply(group: _Group) -> None:
    """Apply "тысяча" to the group said before it."""
    figure_ok = not group.text or (len(group.text) <= 3 and not group.text.startswith("0"))
    if group.high is not None or group.value == 0 or not figure_ok:
        raise NotUnderstood("thousand_misplaced")
    group.high = group.value
    group.low, group.text, group.half = 0, "", False
    group.rank = _OPEN_AFTER_THOUSAND


def _add_half(group: _Group, last: _Token) -> None:
    """Apply "с половиной" to the group said before it."""
    if group.half:
        raise NotUnderstood("half_misplaced")
    if group.rank == _OPEN_AFTER_THOUSAND:  # "две тысячи с половиной" is 2500
        group.low, group.rank = 500, _CLOSED
    elif last.kind is _Kind.HUNDREDS:  # "сто с половиной": 100.5 or, colloquially, 150
        raise NotUnderstood("ambiguous_half", word=last.word)
    else:
        group.half, group.rank = True, _CLOSED


def _extends(group: _Group, token: _Token) -> bool:
    """Whether the token fills a free slot of the group (see the grammar in the module doc)."""
    if token.kind is _Kind.FIGURE:
        return group.rank == _OPEN_AFTER_THOUSAND and _small_figure(token)
    rank = _RANK.get(token.kind)
    if rank is None or rank >= group.rank:
        return False
    # A teen fills tens and units: only hundreds (or "тысяча") may come before it.
    return token.kind is not _Kind.TEEN or group.rank >= _RANK[_Kind.HUNDREDS]


def _restart(group: _Group) -> tuple[_Group, _Group] | None:
    """A group that read on after its "тысяча" into the same thousands said again ("две тысячи
    две" before another "тысячи"): the group as it was before the restart, and the restart's
    multiplier as a group of its own. None when the words are not a restart."""
    if group.half:
        return None
    at = next(i for i, token in enumerate(group.tokens) if token.kind is _Kind.THOUSAND)
    multiplier, low = group.tokens[:at], group.tokens[at + 1 :]
    n = len(multiplier)
    if n == 0 or len(low) < n or [_said(t) for t in low[-n:]] != [_said(t) for t in multiplier]:
        return None
    (before,) = _read(group.tokens[:-n])
    (again,) = _read(low[-n:])
    return before, again


def _read(tokens: Iterable[_Token]) -> list[_Group]:
    """Read number tokens into groups, greedily."""
    groups: list[_Group] = []
    last: _Token | None = None
    for token in tokens:
        group = groups[-1] if groups else None
        if group is not None and token.kind is _Kind.THOUSAND:
            if group.high is not None and (restart := _restart(group)):
                groups[-1:] = restart
                group = restart[1]
            _multiply(group)
            group.tokens.append(token)
        elif group is not None and last is not None and token.kind is _Kind.HALF:
            _add_half(group, last)
            group.tokens.append(token)
        elif group is not None and _extends(group, token):
            group.low += token.value
            group.rank = _CLOSED if token.kind in (_Kind.TEEN, _Kind.FIGURE) else _RANK[token.kind]
            group.tokens.append(token)
        else:
            groups.append(_start(token))
        last = token
    return groups


def _goes_on(previous: _Group, group: _Group) -> bool:
    """Whether the group says the previous one again and goes on: "двести" -> "двести сорок"."""
    n = len(previous.said)
    return len(group.said) > n and group.said[:n] == previous.said


def _groups(tokens: Iterable[_Token]) -> list[_Group]:
    """Read number tokens into groups, and settle whole numbers said side by side: a restart
    replaces the number it restates, a repeat or two different numbers are refused (see
    "Repeats and restarts" in the module docstring)."""
    kept: list[_Group] = []
    for group in _read(tokens):
        previous = kept[-1] if kept else None
        if previous is None:
            kept.append(group)
        elif _goes_on(previous, group):
            if not previous.whole_number:  # "восемьдесят, восемьдесят семь": 87, or 80 87?
                raise NotUnderstood("ambiguous_restart", first=previous.words, second=group.words)
            kept[-1] = group  # "двести… двести сорок": the caller started again
        elif not (previous.whole_number and group.whole_number):
            kept.append(group)  # dictation: "двадцать три сорок пять", "семь семь"
        elif group.said == previous.said:
            raise NotUnderstood("repeated_number", number=group.words)
        else:
            raise NotUnderstood("two_numbers", first=previous.words, second=group.words)
    if sum(len(group.digits) for group in kept) > MAX_DIGITS:  # before int(): see "Bounds"
        raise NotUnderstood("too_many_digits")
    return kept


# --- Digits ---------------------------------------------------------------------------------


def parse_digits(text: str, *, length: int | None = None) -> str:
    """The digits dictated in `text`, leading zeros kept: an account number, a serial's tail.

    Groups are concatenated ("двадцать три сорок пять" -> "2345"); with `length`, any other
    number of digits raises NotUnderstood("wrong_length"). See the module docstring."""
    tokens = _tokens(text)
    if any(t.kind in (_Kind.SEPARATOR, _Kind.DENOMINATOR) for t in tokens):
        raise NotUnderstood("not_digits")
    groups = _groups(t for t in tokens if t.kind not in (_Kind.AND, _Kind.VOLUME))
    if not all(group.whole for group in groups):
        raise NotUnderstood("not_digits")
    digits = "".join(group.digits for group in groups)
    if length is not None and len(digits) != length:
        raise NotUnderstood(
            "wrong_length",
            expected=length,
            digits_word=plural_ru(length, "цифру", "цифры", "цифр"),
            actual=len(digits),
        )
    return digits


# --- Readings -------------------------------------------------------------------------------


def _joined(groups: Sequence[_Group]) -> str:
    """Digits of the groups of one part of a reading, refusing arithmetic next to dictation."""
    if len(groups) > 1 and any(group.compound for group in groups):
        raise NotUnderstood("ambiguous_groups")
    if any(group.half for group in groups):
        raise NotUnderstood("half_misplaced")
    return "".join(group.digits for group in groups)


def _fraction(groups: Sequence[_Group], places: int | None, max_decimals: int) -> str:
    """Decimal places of a reading: dictated digits, or a numerator over a denominator word."""
    if not groups:
        raise NotUnderstood("missing_fraction")
    digits = _joined(groups)
    if places is None:
        if len(digits) > max_decimals:
            raise NotUnderstood("too_many_decimals")
        return digits
    numerator = int(digits)
    if numerator >= 10**places:
        raise NotUnderstood("fraction_too_long")
    return f"{numerator:0{places}d}"


def parse_reading(text: str, *, max_decimals: int = 3) -> Decimal:
    """The meter reading dictated in `text`, in cubic metres, with the precision dictated.

    "сто двадцать три запятая четыре пять шесть" -> 123.456; "пять целых семь десятых" -> 5.7;
    "полтора" -> 1.5. Ambiguous phrases raise NotUnderstood (see the module docstring)."""
    tokens = _resolve_soft_separators(_tokens(text))
    separators = [
        i for i, t in enumerate(tokens) if t.kind in (_Kind.SEPARATOR, _Kind.AND, _Kind.VOLUME)
    ]
    denominators = [i for i, t in enumerate(tokens) if t.kind is _Kind.DENOMINATOR]
    if len(separators) > 1:
        raise NotUnderstood("two_separators")
    if len(denominators) > 1 or (denominators and denominators[0] != len(tokens) - 1):
        raise NotUnderstood("fraction_misplaced")
    places = tokens[-1].value if denominators else None
    numbers = tokens[:-1] if denominators else tokens

    if not separators:
        groups = _groups(numbers)
        if places is not None:
            if len(groups) > 1:
                raise NotUnderstood("missing_separator")
            return Decimal(f"0.{_fraction(groups, places, max_decimals)}")
        if len(groups) == 1 and groups[0].half:
            return groups[0].value
        return Decimal(int(_joined(groups)))

    separator = tokens[separators[0]]
    integer_groups = _groups(numbers[: separators[0]])
    if not integer_groups:
        raise NotUnderstood("missing_integer")
    open_thousand = integer_groups[-1].rank == _OPEN_AFTER_THOUSAND
    if separator.kind is _Kind.AND and open_thousand and places is None:
        raise NotUnderstood("ambiguous_and")  # "тысяча и пять": 1005 or 1000.5?
    if separator.kind is _Kind.VOLUME and places is None:
        raise NotUnderstood("missing_denominator")
    integer = int(_joined(integer_groups))
    fraction = _fraction(_groups(numbers[separators[0] + 1 :]), places, max_decimals)
    return Decimal(f"{integer}.{fraction}")


# --- Yes or no ------------------------------------------------------------------------------

_YES = frozenset(
    (
        *("да", "верно", "правильно", "подтверждаю", "подтверждаем", "точно", "ага", "угу"),
        *("конечно", "согласен", "согласна", "именно", "ок", "окей", "хорошо", "записывайте"),
        *("сохраните", "сохранить"),
    )
)
_NO = frozenset(
    (
        *("нет", "неверно", "неправильно", "неправда", "ошибка", "ошиблись", "повторить"),
        *("повторите", "повтори", "заново", "сначала", "исправить", "исправьте", "изменить"),
    )
)
# "не" before these means no: "не так", "не верно", "не то".
_NEGATED = _YES | {"так", "то"}
_KEYPAD_YES_NO = {"1": True, "2": False}  # docs/phone-line.md §3: yes/no by speech or keypad 1/2


def parse_yes_no(text: str) -> bool | None:
    """The caller's answer to a read-back: True for yes, False for no, None if unclear.

    Keypad "1" is yes and "2" is no (docs/phone-line.md §3). An answer with both a yes and a no ("да, нет",
    "нет, всё верно") is unclear: the dialog asks again rather than guess."""
    stripped = text.strip()
    if stripped in _KEYPAD_YES_NO:
        return _KEYPAD_YES_NO[stripped]
    words = normalise(text).split()
    yes = no = False
    for i, word in enumerate(words):
        negated = i > 0 and words[i - 1] == "не"
        if word in _NO or (negated and word in _NEGATED):
            no = True
        elif word in _YES:
            yes = True
    if yes == no:
        return None
    return yes


def vocabulary() -> frozenset[str]:
    """Every word this module understands: number words in all their forms, decimal separators,
    denominators, volumes, yes/no and self-corrections. A grammar for an offline recogniser,
    which is more accurate when limited to the words a question can be answered with (docs/phone-line.md §4)."""
    corrections = _CORRECTIONS | {word for pair in _CORRECTION_PAIRS for word in pair}
    return frozenset(_WORDS) | _YES | _NO | corrections | {_NEGATION, _BUT}


# --- Saying numbers back --------------------------------------------------------------------

_DIGIT_WORDS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
_FEMININE = {1: "одна", 2: "две"}
_SAY_TEENS = {value: words[0] for value, words in _TEENS.items()}
_SAY_TENS = {value: words[0] for value, words in _TENS.items()}
_SAY_HUNDREDS = {value: words[0] for value, words in _HUNDREDS.items()}
_SAY_DENOMINATORS = {1: ("десятая", "десятых"), 2: ("сотая", "сотых"), 3: ("тысячная", "тысячных")}
_MAX_SPOKEN = 1_000_000  # parse_reading does not know "миллион" either


def digits_to_speech(digits: str, *, groups: Sequence[int] = ()) -> str:
    """Digit by digit, for read-back: "38001" -> "три восемь ноль ноль один".

    `groups` splits the digits for a pause: groups=(3, 3) reads "123456789" as
    "один два три — четыре пять шесть — семь восемь девять" (docs/phone-line.md §2)."""
    if not digits.isdecimal() or not digits.isascii():
        raise ValueError(f"Not a string of digits: {digits!r}")
    chunks: list[str] = []
    rest = digits
    for size in groups:
        if rest[:size]:
            chunks.append(rest[:size])
        rest = rest[size:]
    if rest:
        chunks.append(rest)
    return " — ".join(" ".join(_DIGIT_WORDS[int(d)] for d in chunk) for chunk in chunks)


def _below_thousand(n: int, *, feminine: bool) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [_SAY_HUNDREDS[hundreds * 100]] if hundreds else []
    if 10 <= rest <= 19:
        return [*words, _SAY_TEENS[rest]]
    tens, units = divmod(rest, 10)
    if tens:
        words.append(_SAY_TENS[tens * 10])
    if units:
        words.append(_FEMININE[units] if feminine and units in _FEMININE else _DIGIT_WORDS[units])
    return words


def _cardinal(n: int, *, feminine: bool = False) -> str:
    """A cardinal number below a million in words: 2025 -> "две тысячи двадцать пять"."""
    if n == 0:
        return "ноль"
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_thousand(thousands, feminine=True)
        words.append(plural_ru(thousands, "тысяча", "тысячи", "тысяч"))
    return " ".join(words + _below_thousand(rest, feminine=feminine))


def _fraction_noun(n: int, one: str, many: str) -> str:
    """ "одна целая", "двадцать одна сотая", but "две целых", "тысяча целых" (genitive)."""
    return one if n % 10 == 1 and n % 100 != 11 else many


def reading_to_speech(value: Decimal) -> str:
    """A reading in words, for read-back, understood by parse_reading.

    Decimal("123.456") -> "сто двадцать три целых четыреста пятьдесят шесть тысячных";
    Decimal("1.1") -> "одна целая одна десятая"; Decimal("7") -> "семь". The precision of the
    value is kept (123.450 says "четыреста пятьдесят тысячных"); trailing zeros beyond three
    decimal places are dropped, and values that still need more places are refused."""
    if not value.is_finite() or value < 0 or value >= _MAX_SPOKEN:
        raise ValueError(f"Cannot say {value!r} as a reading")
    places = max(0, -int(value.as_tuple().exponent))
    if places > 3:
        value = value.normalize()
        places = max(0, -int(value.as_tuple().exponent))
        if places > 3:
            raise ValueError(f"A reading has at most three decimal places: {value!r}")
    integer = int(value)
    numerator = int((value - integer).scaleb(places))
    if numerator == 0:
        return _cardinal(integer)
    one, many = _SAY_DENOMINATORS[places]
    return " ".join(
        (
            _cardinal(integer, feminine=True),
            _fraction_noun(integer, "целая", "целых") if integer else "целых",
            _cardinal(numerator, feminine=True),
            _fraction_noun(numerator, one, many),
        )
    )
