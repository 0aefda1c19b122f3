"""Properties of the spoken-number parser (docs/phone-line.md §3), checked on generated phrases.

Numbers are spoken by two independent number-to-words functions: the line's own read-back
(`reading_to_speech`) and num2words. The examples are bounded and derandomised, so the suite
stays fast and a run is the same every time."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from meters.voice.numbers import (
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

BOUNDED = settings(max_examples=200, deadline=None, database=None, derandomize=True)

WHOLE = st.integers(min_value=100, max_value=999_999)  # said with hundreds or "тысяча"
ANY = st.integers(min_value=0, max_value=999_999)
SPEAKERS = st.sampled_from(["read-back", "num2words"])
# What a recogniser may put between two numbers: a pause, a comma, an ellipsis, a filler.
PAUSES = st.sampled_from([" ", ", ", "… ", " э ", ", ну, ", ". "])
CORRECTIONS = st.sampled_from(
    ["нет", "ой", "точнее", "вернее", "то есть", "в смысле", "ой, нет", "не так", "извините"]
)


def speak(n: int, speaker: str) -> str:
    if speaker == "num2words":
        return num2words(n, lang="ru")
    return reading_to_speech(Decimal(n))


def parsed(text: str) -> tuple[str | None, Decimal | None]:
    """The text through both parsers; None where it is refused."""
    results: list = []
    for parse in (parse_digits, parse_reading):
        try:
            results.append(parse(text))
        except NotUnderstood:
            results.append(None)
    return results[0], results[1]


def one_number(words: str, speaker: str) -> bool:
    """Whether the words are one number as the speaker says it ("двести" + "пять тысяч")."""
    try:
        value = parse_reading(words)
    except NotUnderstood:
        return False
    return value == int(value) and speak(int(value), speaker) == words


@BOUNDED
@given(WHOLE, WHOLE, SPEAKERS, PAUSES)
def test_two_whole_numbers_are_never_glued(a, b, speaker, pause):
    """No phrase of two spoken numbers is read as their concatenation: the second one wins
    when it restates the first and goes on (a hesitation), the phrase is read as one number
    when its words are one number ("двести" + "пять тысяч"), and anything else is refused."""
    first, second = speak(a, speaker), speak(b, speaker)
    digits, reading = parsed(f"{first}{pause}{second}")
    assert digits != f"{a}{b}"
    assert reading != Decimal(f"{a}{b}")
    restart = second.startswith(f"{first} ")
    whole = f"{first} {second}"
    if restart:  # "двести… двести сорок"
        assert (digits, reading) == (str(b), b)
    elif one_number(whole, speaker):
        assert (digits, reading) == (str(parse_reading(whole)), parse_reading(whole))
    else:
        assert (digits, reading) == (None, None)


@BOUNDED
@given(ANY, ANY, SPEAKERS, PAUSES)
def test_only_dictation_is_concatenated(a, b, speaker, pause):
    """Pairs and digits are dictation (docs/phone-line.md §3: "двадцать три сорок пять" -> 2345), so two
    numbers are read as their concatenation only when one of them is below a hundred."""
    digits, reading = parsed(f"{speak(a, speaker)}{pause}{speak(b, speaker)}")
    if digits == f"{a}{b}" or reading == Decimal(f"{a}{b}"):
        assert a < 100 or b < 100


@BOUNDED
@given(WHOLE, SPEAKERS, PAUSES, st.data())
def test_a_restart_is_read_as_the_number_it_completes(b, speaker, pause, data):
    """ "двести… двести сорок", "две тысячи, две тысячи двадцать пять": the start of a number
    said again before the whole of it is the whole of it."""
    words = speak(b, speaker).split()
    starts = [
        " ".join(words[:k])
        for k in range(1, len(words))
        if one_number(" ".join(words[:k]), speaker) and parse_reading(" ".join(words[:k])) >= 100
    ]
    if not starts:
        return
    start = data.draw(st.sampled_from(starts))
    assert parsed(f"{start}{pause}{speak(b, speaker)}") == (str(b), b)


@BOUNDED
@given(st.integers(min_value=2, max_value=9), st.integers(min_value=1, max_value=9), PAUSES)
def test_a_pair_said_again_is_asked_again(tens, unit, pause):
    """ "восемьдесят, восемьдесят семь": 87 after a hesitation, or 8087 read in pairs? Neither
    is guessed."""
    first = reading_to_speech(Decimal(tens * 10))
    second = reading_to_speech(Decimal(tens * 10 + unit))
    assert parsed(f"{first}{pause}{second}") == (None, None)


@BOUNDED
@given(ANY, ANY, SPEAKERS, CORRECTIONS)
def test_the_number_after_a_correction_wins(a, b, speaker, correction):
    said = speak(b, speaker)
    phrase = f"{speak(a, speaker)}, {correction}, {said}"
    assert parsed(phrase) == parsed(said) == (str(b), b)
    assert has_correction(phrase)


@BOUNDED
@given(
    st.decimals(min_value=0, max_value=Decimal("999999.999"), places=3),
    st.decimals(min_value=0, max_value=Decimal("999999.999"), places=3),
    CORRECTIONS,
)
def test_a_corrected_reading_with_decimals(a, b, correction):
    phrase = f"{reading_to_speech(a)}, {correction}, {reading_to_speech(b)}"
    assert parse_reading(phrase) == b


@BOUNDED
@given(
    st.text(alphabet="0123456789", max_size=4),
    st.integers(min_value=2, max_value=9),
    st.text(alphabet="0123456789", max_size=4),
)
def test_counted_zeros(before, count, after):
    """ "три нуля пять" is "0005": the count, then "нуля" (2-4) or "нулей" (5-9)."""
    zeros = f"{digits_to_speech(str(count))} {'нуля' if count < 5 else 'нулей'}"
    said = [digits_to_speech(before)] if before else []
    said.append(zeros)
    if after:
        said.append(digits_to_speech(after))
    words = " ".join(said)
    assert parse_digits(words) == before + "0" * count + after
    assert parse_reading(words) == int(before + "0" * count + after)


# Words the line hears: its own vocabulary, fillers, words it does not know, figures with
# punctuation, and arbitrary text.
WORDS = st.one_of(
    st.sampled_from(sorted(vocabulary())),
    st.sampled_from(["э", "ну", "значит", "кошка", "третий", "миллион", "полтораста", "сказать"]),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.sampled_from([",", ".", "…", "-", "0,5", "12.3", "007", "1 234,5", "№", "ё"]),
    st.text(max_size=5),
)
PHRASES = st.lists(WORDS, max_size=14).map(" ".join)


@settings(BOUNDED, max_examples=500)
@given(PHRASES)
def test_the_parser_raises_only_its_own_refusals(text):
    for parse in (parse_digits, lambda t: parse_digits(t, length=10)):
        try:
            digits = parse(text)
        except NotUnderstood:
            continue
        assert digits.isdecimal()
        assert digits.isascii()
    for parse in (parse_reading, lambda t: parse_reading(t, max_decimals=1)):
        try:
            value = parse(text)
        except NotUnderstood:
            continue
        assert value.is_finite()
        assert value >= 0
    assert parse_yes_no(text) in (True, False, None)
    assert has_correction(text) in (True, False)
    assert isinstance(normalise(text), str)
