"""Russian text as a Russian reader writes it: plural forms, dates, months, volumes and
rates, names in the dative (pytrovich for people, pymorphy3 for positions), quotes within
quotes. Money in figures and words: vodokanal/common/amount_words.py. The bottom layer: imports no
app."""

import re
from datetime import date
from decimal import Decimal
from functools import cache

from pytrovich.enums import Case, NamePart


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """Pick the Russian plural form agreeing with ``n``.

    ``one`` for 1, 21, 101 (but not 11, 111), ``few`` for 2-4, 22-24 (but not 12-14),
    ``many`` for everything else: 0, 5-20, 25-30, 111-114, ...
    """
    n = abs(n)
    if 11 <= n % 100 <= 14:
        return many
    if n % 10 == 1:
        return one
    if 2 <= n % 10 <= 4:
        return few
    return many


def ru_date(value: date) -> str:
    """24.11.2026"""
    return value.strftime("%d.%m.%Y")


def ru_volume(value: Decimal) -> str:
    """A volume in m3 with three decimals and the decimal comma: 123,456."""
    return f"{value:.3f}".replace(".", ",")


# --- Names in documents: the dative of an addressee, quotes within quotes ---------------

_ENTREPRENEUR_PREFIX = re.compile(r"^\s*(ИП|Индивидуальный предприниматель)\s+", re.IGNORECASE)


def quoted(name: str) -> str:
    """A name in «ёлочки», its own quotes turned into „лапки“ (Russian typography): quoted(
    "ООО «Ромашка»") -> "«ООО „Ромашка“»"."""
    return "«" + name.replace("«", "„").replace("»", "“") + "»"


def person_of(name: str) -> str:
    """The person in an entrepreneur's name: "ИП Захаров Олег Николаевич" -> "Захаров Олег
    Николаевич"."""
    return _ENTREPRENEUR_PREFIX.sub("", name).strip()


def initials(full_name: str) -> str:
    """ "Захаров Олег Николаевич" -> "Захаров О. Н."."""
    last, *rest = full_name.split()
    return " ".join([last, *(f"{part[0]}." for part in rest if part)])


def dative_name(full_name: str, *, short: bool = False) -> str:
    """A person's name in the dative: "Захаров Олег Николаевич" -> "Захарову Олегу
    Николаевичу", or with `short` "Захарову О. Н."; a name it cannot split is left as it is."""
    parts = full_name.split()
    if len(parts) != 3:
        return full_name
    last, first, middle = parts
    maker, gender = _petrovich()
    sex = gender.detect(firstname=first, middlename=middle)
    dative = maker.make(NamePart.LASTNAME, sex, Case.DATIVE, last)
    if short:
        return initials(f"{dative} {first} {middle}")
    return " ".join(
        (
            dative,
            maker.make(NamePart.FIRSTNAME, sex, Case.DATIVE, first),
            maker.make(NamePart.MIDDLENAME, sex, Case.DATIVE, middle),
        )
    )


def dative_position(position: str) -> str:
    """A position in the dative, its head noun and the words before it: "Генеральный
    директор" -> "Генеральному директору", "Председатель правления" -> "Председателю
    правления"."""
    words = position.split()
    result = []
    for index, word in enumerate(words):
        parse = _morph().parse(word)[0]
        inflected = parse.inflect({"datv"})
        text = inflected.word if inflected else word
        result.append(text.capitalize() if index == 0 else text)
        if "NOUN" in parse.tag:  # the head noun: what follows is its complement
            result.extend(words[index + 1 :])
            break
    return " ".join(result)


@cache
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@cache
def _petrovich():  # type: ignore[no-untyped-def]
    from pytrovich.detector import PetrovichGenderDetector
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker(), PetrovichGenderDetector()


def shown(text: str, limit: int = 40) -> str:
    """A value quoted in a message, long junk cut short."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size_text(limit: int) -> str:
    """A file size as staff read it: "32 МБ", "500 КБ"."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.3g} МБ".replace(".", ",")
    if limit >= 1024:
        return f"{limit / 1024:.3g} КБ".replace(".", ",")
    return f"{limit} байт"


# --- Volumes, months and rates as pages and documents show them (the templates take these
# as filters: billing/templatetags/money.py; money: vodokanal/common/amount_words.py) ---

MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


def m3(volume: Decimal | None) -> str:
    """Decimal("12.345") -> "12,345\u00a0м³"."""
    if volume is None:
        return ""
    return f"{ru_volume(volume)}\u00a0м³"


def month_ru(month: date | None) -> str:
    """date(2026, 11, 1) -> "ноябрь 2026"."""
    if month is None:
        return ""
    return f"{MONTHS[month.month - 1]} {month.year}"


def percent(rate: Decimal) -> str:
    """Decimal("16.50") -> "16,5 %"."""
    text = f"{rate.normalize():f}".replace(".", ",")
    return f"{text}\u00a0%"
