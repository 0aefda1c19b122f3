"""Payment registries from banks and the post (docs/formats.md §1).

Each agent's layout is data (`PaymentAgent`). A file is parsed whole first, without the
database: a wrong encoding, a missing summary line, a line that cannot be read, or a count or
total that disagrees with the lines refuses the file, every problem listed with its line
number (the first IMPORT_MAX_ERRORS of them, and how many more), and nothing is written. Then,
in one durable transaction, each line is booked, skipped (already booked) or set aside as an
unidentified payment with its reason; readings carried in the line go through
`submit_readings`, and a refused reading never refuses the payment.

A file is read in chunks, never whole (over REGISTRY_MAX_BYTES it is refused), and every value
of it is bounded where it is read: an amount a money field cannot hold, a reading no meter
shows, a payment date after today or after the payment order, a month a payment may not name,
a payment day with no period to book it in (a registry never creates a period) each refuse
the file with its line, rather than fail in the database.
"""

import codecs
import functools
import hashlib
import io
import logging
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PersonalAccount, User
from accounts.validators import is_valid_account_number
from billing import permissions
from billing.models import (
    Payment,
    PaymentAgent,
    Period,
    RegistryImport,
    UnidentifiedPayment,
)
from billing.services import NewPayment, book_payments, register_payments
from meters.models import Meter, MeterReading
from meters.services import NewReading, submit_readings
from vodokanal.common import clock
from vodokanal.common.amount_words import format_rub
from vodokanal.common.money import ZERO, to_kopecks
from vodokanal.common.months import add_months, month_start
from vodokanal.common.russian import ru_date, ru_volume, shown, size_text

# Numbers are ASCII digits: `\d` and str.isdigit() also take "²", "①" and other scripts' digits.
MONEY_RE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
READING_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
COUNT_RE = re.compile(r"[0-9]{1,9}", re.ASCII)
# The largest amount a money field holds (max_digits=14, decimal_places=2).
MAX_AMOUNT = Decimal("999999999999.99")
# The largest reading a meter shows (MeterReading.value: max_digits=12, decimal_places=3).
MAX_READING = Decimal("999999999.999")
# A payment may name (its period field) an open period or one of the months of the last three
# years (the limitation period, ГК РФ ст. 196) up to the current one.
RECENT_MONTHS = 36
CHUNK_BYTES = 256 * 1024
# A registry line is about 200 characters: junk without line breaks is refused here.
MAX_LINE_CHARS = 10_000
# How a strftime format reads to an accountant: "%d-%m-%Y" -> "ДД-ММ-ГГГГ".
HUMAN_FORMAT = {
    "%d": "ДД",
    "%m": "ММ",
    "%Y": "ГГГГ",
    "%y": "ГГ",
    "%H": "ЧЧ",
    "%M": "ММ",
    "%S": "СС",
}
# The cp1251 reading of the second byte of a UTF-8 Cyrillic letter ("Р", "С" + one of these).
_MOJIBAKE_TAILS = bytes(range(0x80, 0xC0)).decode("cp1251", errors="ignore")
_MOJIBAKE_RE = re.compile(f"[РС][{re.escape(_MOJIBAKE_TAILS)}]")
_CYRILLIC_RE = re.compile("[А-Яа-яЁё]")
# What str.splitlines() ends a line with.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

logger = logging.getLogger(__name__)


class Status:
    """Line statuses of the import report."""

    BOOKED = "booked"
    SKIPPED = "skipped"
    UNIDENTIFIED = "unidentified"
    READING_ACCEPTED = "reading_accepted"
    READING_REFUSED = "reading_refused"

    PAYMENT_LINE = (BOOKED, SKIPPED, UNIDENTIFIED)


STATUS_TITLES = {
    Status.BOOKED: "учтён",
    Status.SKIPPED: "пропущен",
    Status.UNIDENTIFIED: "невыясненный",
    Status.READING_ACCEPTED: "показание принято",
    Status.READING_REFUSED: "показание не принято",
}


@dataclass(frozen=True)
class ReadingField:
    """A `serial:value` field of a line; value None when it is not a number (or not one a
    meter shows: then `refusal` says why)."""

    serial: str
    value: Decimal | None
    text: str
    refusal: str = ""


@dataclass(frozen=True)
class RegistryLine:
    line: int  # 1-based line of the file
    paid_on: date
    operation: str
    account: str
    payer: str
    address: str
    period: str  # as written: MMYYYY or ""
    for_month: date | None
    amount: Decimal
    transferred: Decimal
    commission: Decimal
    readings: tuple[ReadingField, ...]


@dataclass(frozen=True)
class ParsedRegistry:
    lines: list[RegistryLine]
    total: Decimal
    transferred: Decimal
    commission: Decimal
    order_number: str
    order_date: date | None


class _Account(NamedTuple):
    """What the import reads of a personal account (100 000 model instances cost a second)."""

    pk: int
    number: str
    opened_on: date
    closed_on: date | None


def payment_external_id(agent: PaymentAgent, operation: str) -> str:
    """Payment.external_id of a registry line: operation numbers are unique per agent only."""
    return f"{agent.code}:{operation}"


# --- Parsing (pure) ---


def _human(fmt: str) -> str:
    for code, text in HUMAN_FORMAT.items():
        fmt = fmt.replace(code, text)
    return fmt


def _error(line: int | None, message: str, code: str, **params: object) -> ValidationError:
    prefix = f"Строка {line}: " if line else ""
    return ValidationError(prefix + message, code=code, params=params or None)


class _Errors:
    """The problems of a file: the first IMPORT_MAX_ERRORS kept, the others only counted (a
    million junk lines must not make a million messages)."""

    def __init__(self) -> None:
        self.limit = max(settings.IMPORT_MAX_ERRORS, 1)
        self.shown: list[ValidationError] = []
        self.more = 0

    @property
    def count(self) -> int:
        return len(self.shown) + self.more

    def add(self, *errors: ValidationError) -> None:
        for error in errors:
            if len(self.shown) < self.limit:
                self.shown.append(error)
            else:
                self.more += 1

    def line(self, line: int, message: str, code: str, **params: object) -> None:
        """A problem of a line, made into a message only if it is shown (junk is fast)."""
        if len(self.shown) < self.limit:
            self.shown.append(_error(line, message, code, **params))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.shown)

    def refusal(self) -> ValidationError:
        errors = list(self.shown)
        if self.more:
            errors.append(
                ValidationError(
                    "Ещё ошибок в файле: %(more)s (показаны первые %(shown)s).",
                    code="more_errors",
                    params={"more": self.more, "shown": len(self.shown)},
                )
            )
        return ValidationError(errors)


def _money(text: str) -> Decimal | None:
    """Roubles with up to two decimals ("1 520,40"), or None if it is not such a number. A
    value over MAX_AMOUNT comes back unrounded (rounding 27 digits overflows), for the caller
    to refuse."""
    text = text.replace(" ", "").replace("\xa0", "").replace(",", ".")
    if not MONEY_RE.fullmatch(text):
        return None
    value = Decimal(text)
    return to_kopecks(value) if value <= MAX_AMOUNT else value


def _date(text: str, fmt: str) -> date | None:
    if not text.isascii():  # strptime's digits are any script's
        return None
    try:
        return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        return None


def _source(data: bytes | IO[bytes]) -> IO[bytes]:
    """The file from its first byte: bytes as a stream, a file rewound."""
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data)
    data.seek(0)
    return data


def too_large() -> ValidationError:
    """The refusal of a file over REGISTRY_MAX_BYTES (the upload form checks it first)."""
    return ValidationError(
        "Файл больше %(max)s: реестр такого размера не загружается. Проверьте, тот ли это "
        "файл, или попросите агента разделить реестр.",
        code="too_large",
        params={"max": size_text(settings.REGISTRY_MAX_BYTES)},
    )


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The file in chunks and an empty one at its end; refused once over REGISTRY_MAX_BYTES."""
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > settings.REGISTRY_MAX_BYTES:
            raise too_large()
        yield chunk
    yield b""


def _digest(stream: IO[bytes]) -> str:
    """The file's sha256, read in chunks; the stream is rewound."""
    digest = hashlib.sha256()
    for chunk in _chunks(stream):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _split_lines(texts: Iterable[str]) -> Iterator[str]:
    """The lines of text that comes in chunks, as str.splitlines() splits a whole text; a
    line longer than MAX_LINE_CHARS refuses the file."""
    rest = ""
    number = 0
    for text in texts:
        parts = (rest + text).splitlines(keepends=True)
        rest = ""
        if parts and (parts[-1][-1] not in _LINE_BREAKS or parts[-1][-1] == "\r"):
            rest = parts.pop()  # continues in the next chunk (or "\r" before its "\n")
        for part in parts:
            number += 1
            line = part.rstrip(_LINE_BREAKS)
            if len(line) > MAX_LINE_CHARS:
                raise _line_too_long(number)
            yield line
        if len(rest) > MAX_LINE_CHARS + 1:
            raise _line_too_long(number + 1)
    for line in rest.splitlines():
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _line_too_long(number)
        yield line


def _line_too_long(number: int) -> ValidationError:
    return _error(
        number,
        "длиннее %(max)s знаков: это не строка реестра. Проверьте, тот ли это файл.",
        "line_too_long",
        max=f"{MAX_LINE_CHARS:,}".replace(",", "\xa0"),
    )


class _Text:
    """The lines of a file in the agent's encoding, read in chunks; then `refusal()` says
    whether the file is in another encoding (cp1251 decodes almost any bytes, so a UTF-8 file
    must be recognised, not misread)."""

    def __init__(self, stream: IO[bytes], agent: PaymentAgent) -> None:
        try:
            self.encoding = codecs.lookup(agent.encoding).name
        except LookupError:
            raise _error(
                None,
                "В формате агента «%(agent)s» указана неизвестная кодировка «%(encoding)s».",
                "bad_encoding",
                agent=agent.name,
                encoding=agent.encoding,
            ) from None
        self.agent = agent
        self.stream = stream
        self.ascii = True
        self.utf8 = True  # every byte so far is valid UTF-8
        self.undecodable = False  # a byte the agent's encoding has no letter for
        self.mojibake = 0  # UTF-8 Cyrillic read as cp1251: "Р" or "С" + a sign
        self.cyrillic = 0  # Cyrillic letters of the chunks with such pairs

    def __iter__(self) -> Iterator[str]:
        return _split_lines(self._texts())

    def _texts(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        utf8 = codecs.getincrementaldecoder("utf-8")()
        foreign = self.encoding != "utf-8"
        tail = ""  # the chunk's last letter, if a pair may start with it
        first = True
        for chunk in _chunks(self.stream):
            final = not chunk
            self.ascii = self.ascii and chunk.isascii()
            if foreign and self.utf8:
                try:
                    utf8.decode(chunk, final)
                except UnicodeDecodeError:
                    self.utf8 = False
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError:  # refused at the end; read on to name the encoding
                self.undecodable = True
                decoder = codecs.getincrementaldecoder(self.encoding)("replace")
                text = decoder.decode(chunk, final)
            if foreign and (pairs := len(_MOJIBAKE_RE.findall(tail + text))):
                self.mojibake += pairs
                # Letters are counted only where such pairs are (counting is slow): a misread
                # UTF-8 file has them everywhere, a real cp1251 one in a name or two.
                self.cyrillic += len(_CYRILLIC_RE.findall(text))
            if foreign:
                tail = text[-1] if text[-1:] in ("Р", "С") else ""
            if first:
                text, first = text.removeprefix("\ufeff"), False
            yield text

    def refusal(self) -> ValidationError | None:
        """After the last line: the file's encoding is not the agent's."""
        if self.encoding != "utf-8" and not self.ascii and self.utf8:
            return _wrong_encoding(self.agent, " (файл в UTF-8)")
        if self.encoding != "utf-8" and self.mojibake >= 3 and self.mojibake * 4 >= self.cyrillic:
            return _wrong_encoding(self.agent, " (похоже на UTF-8)")
        if self.undecodable:
            return _wrong_encoding(self.agent)
        return None


def _wrong_encoding(agent: PaymentAgent, found: str = "") -> ValidationError:
    return ValidationError(
        "Файл не в кодировке %(encoding)s, указанной в формате агента «%(agent)s»%(found)s. "
        "Запросите у агента файл в кодировке %(encoding)s или исправьте формат агента.",
        code="wrong_encoding",
        params={"encoding": agent.encoding, "agent": agent.name, "found": found},
    )


def _readings(fields: list[str]) -> tuple[ReadingField, ...]:
    result = []
    for field in fields:
        text = field.strip()
        if not text:
            continue
        serial, _, raw = text.rpartition(":")
        raw = raw.strip().replace(",", ".")
        value = Decimal(raw) if serial.strip() and READING_RE.fullmatch(raw) else None
        refusal = ""
        if value is not None and value > MAX_READING:
            refusal = (
                f"Показание «{shown(text)}» не принято: больше {ru_volume(MAX_READING)}, "
                "такого счётчики не показывают."
            )
            value = None
        result.append(ReadingField(serial.strip() or text, value, text, refusal))
    return tuple(result)


class _Reader:
    """Reads the dates and sums of one file, each distinct text once: a registry's lines
    repeat the payment day, the period and many amounts, and strptime is slow. Knows the day
    (`today`) and the months a payment may name."""

    def __init__(self, agent: PaymentAgent, *, today: date, open_months: Collection[date]) -> None:
        self.agent = agent
        self.today = today
        self.open_months = open_months
        self.latest_month = month_start(today)
        self.earliest_month = add_months(self.latest_month, -RECENT_MONTHS)
        self._dates: dict[tuple[str, str], date | None] = {}
        self._amounts: dict[str, Decimal | None] = {}
        self._months: dict[date, bool] = {}

    @functools.cached_property
    def needed(self) -> int:
        """Fields a payment line must have: up to the last required column."""
        columns = self.agent.columns
        required = ("date", "operation", "account", "amount", "transferred", "commission")
        return max(columns[name] for name in required if name in columns) + 1

    def date_of(self, text: str, fmt: str) -> date | None:
        key = (text, fmt)
        if key not in self._dates:
            self._dates[key] = _date(text, fmt)
        return self._dates[key]

    def money_of(self, text: str) -> Decimal | None:
        if text not in self._amounts:
            self._amounts[text] = _money(text)
        return self._amounts[text]

    def may_name(self, month: date) -> bool:
        """A payment may be for this month: an open period, or a recent month."""
        if month not in self._months:
            self._months[month] = (
                self.earliest_month <= month <= self.latest_month or month in self.open_months
            )
        return self._months[month]


def _parse_line(
    number: int, fields: list[str], agent: PaymentAgent, reader: _Reader, errors: _Errors
) -> RegistryLine | None:
    """The payment of a line, or None with its problems added to `errors`."""
    columns = agent.columns
    needed = reader.needed
    if len(fields) < needed:
        errors.line(
            number,
            "полей %(found)s, а нужно не меньше %(needed)s (разделитель «%(sep)s»).",
            "missing_fields",
            found=len(fields),
            needed=needed,
            sep=agent.separator,
        )
        return None

    def get(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    problems = errors.count
    date_text, time_text, operation = get("date"), get("time"), get("operation")
    if not date_text:
        errors.line(number, "не указана дата оплаты.", "missing_fields")
    if not operation:
        errors.line(number, "не указан номер операции.", "missing_fields")
    paid_on = reader.date_of(date_text, agent.date_format)
    if date_text and paid_on is None:
        errors.line(
            number,
            "дата оплаты «%(value)s» не в формате %(format)s.",
            "bad_date",
            value=shown(date_text),
            format=_human(agent.date_format),
        )
    if paid_on is not None and paid_on > reader.today:
        errors.line(
            number,
            "дата оплаты %(value)s позже сегодняшнего дня (%(today)s).",
            "future_date",
            value=ru_date(paid_on),
            today=ru_date(reader.today),
        )
    if time_text and agent.time_format and reader.date_of(time_text, agent.time_format) is None:
        errors.line(
            number,
            "время оплаты «%(value)s» не в формате %(format)s.",
            "bad_time",
            value=shown(time_text),
            format=_human(agent.time_format),
        )
    if len(payment_external_id(agent, operation)) > 64:
        errors.line(number, "номер операции длиннее допустимого.", "bad_operation")
    amounts = {}
    amount_text = get("amount")
    for name, title, default in (
        ("amount", "сумма платежа", None),
        ("transferred", "сумма к перечислению", amount_text),
        ("commission", "комиссия", "0"),
    ):
        text = get(name) if name in columns else default
        amounts[name] = reader.money_of(text or "")
        if amounts[name] is None:
            errors.line(
                number,
                "%(title)s «%(value)s» не число в рублях с копейками.",
                "bad_amount",
                title=title,
                value=shown(text or ""),
            )
        elif amounts[name] > MAX_AMOUNT:
            errors.line(
                number,
                "%(title)s «%(value)s» больше допустимой (%(max)s).",
                "amount_too_large",
                title=title,
                value=shown(text or ""),
                max=format_rub(MAX_AMOUNT),
            )
    if amounts["amount"] is not None and amounts["amount"] <= ZERO:
        errors.line(number, "сумма платежа должна быть больше нуля.", "amount_not_positive")
    period = get("period")
    for_month = reader.date_of(period, agent.period_format) if period else None
    if period and for_month is None:
        errors.line(
            number,
            "период «%(value)s» не в формате %(format)s.",
            "bad_period",
            value=shown(period),
            format=_human(agent.period_format),
        )
    elif for_month is not None and not reader.may_name(for_month.replace(day=1)):
        errors.line(
            number,
            "период «%(value)s» (%(month)s) не принимается: оплатить можно открытый "
            "расчётный период или месяц не раньше %(earliest)s и не позже %(latest)s.",
            "bad_period",
            value=period,
            month=f"{for_month:%m.%Y}",
            earliest=f"{reader.earliest_month:%m.%Y}",
            latest=f"{reader.latest_month:%m.%Y}",
        )
    if errors.count > problems or paid_on is None:
        return None
    readings = () if agent.readings_from is None else _readings(fields[agent.readings_from :])
    return RegistryLine(
        line=number,
        paid_on=paid_on,
        operation=operation,
        account=get("account"),
        payer=get("payer"),
        address=get("address"),
        period=period,
        for_month=for_month.replace(day=1) if for_month else None,
        amount=amounts["amount"],  # type: ignore[arg-type]
        transferred=amounts["transferred"],  # type: ignore[arg-type]
        commission=amounts["commission"],  # type: ignore[arg-type]
        readings=readings,
    )


def _parse_summary(number: int, fields: list[str], agent: PaymentAgent, today: date) -> dict:
    columns = agent.summary_columns

    def get(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    summary: dict = {"number": number, "errors": []}
    count = get("count")
    summary["count"] = int(count) if COUNT_RE.fullmatch(count) else None
    if summary["count"] is None:
        summary["errors"].append(
            _error(
                number,
                "в итоговой строке количество платежей «%(value)s» не число.",
                "bad_summary",
                value=shown(count),
            )
        )
    for name in ("amount", "transferred", "commission"):
        summary[name] = _money(get(name)) if name in columns else None
        if name in columns and summary[name] is None:
            summary["errors"].append(
                _error(
                    number,
                    "в итоговой строке сумма «%(value)s» не число.",
                    "bad_summary",
                    value=shown(get(name)),
                )
            )
        elif summary[name] is not None and summary[name] > MAX_AMOUNT:
            summary["errors"].append(
                _error(
                    number,
                    "в итоговой строке сумма «%(value)s» больше допустимой (%(max)s).",
                    "bad_summary",
                    value=shown(get(name)),
                    max=format_rub(MAX_AMOUNT),
                )
            )
            summary[name] = None  # not compared with the lines
    summary["order_number"] = get("order_number")
    summary["order_date"] = _date(get("order_date"), agent.date_format)
    if get("order_date") and summary["order_date"] is None:
        summary["errors"].append(
            _error(
                number,
                "дата платёжного поручения «%(value)s» не в формате %(format)s.",
                "bad_summary",
                value=shown(get("order_date")),
                format=_human(agent.date_format),
            )
        )
    elif summary["order_date"] is not None and summary["order_date"] > today:
        summary["errors"].append(
            _error(
                number,
                "дата платёжного поручения %(value)s позже сегодняшнего дня (%(today)s).",
                "future_date",
                value=ru_date(summary["order_date"]),
                today=ru_date(today),
            )
        )
    return summary


def _check_totals(summary: dict, lines: list[RegistryLine], count: int) -> list[ValidationError]:
    errors = []
    if summary["count"] is not None and summary["count"] != count:
        errors.append(
            _error(
                None,
                "В итоговой строке указано платежей: %(summary)s, а в файле строк с платежами: "
                "%(lines)s. Файл неполный или испорчен.",
                "count_mismatch",
                summary=summary["count"],
                lines=count,
            )
        )
    if len(lines) != count:  # some lines are unreadable: their sums are unknown
        return errors
    titles = {"amount": "платежей", "transferred": "к перечислению", "commission": "комиссии"}
    for name, title in titles.items():
        stated = summary[name]
        actual = sum((getattr(line, name) for line in lines), ZERO)
        if stated is not None and stated != actual:
            errors.append(
                _error(
                    None,
                    "Сумма %(title)s в итоговой строке %(summary)s, а по строкам %(lines)s.",
                    "total_mismatch",
                    title=title,
                    summary=format_rub(stated),
                    lines=format_rub(actual),
                )
            )
    if _sum(lines) > MAX_AMOUNT:
        errors.append(
            _error(
                None,
                "Сумма платежей файла %(lines)s больше допустимой (%(max)s).",
                "amount_too_large",
                lines=format_rub(_sum(lines)),
                max=format_rub(MAX_AMOUNT),
            )
        )
    return errors


def parse_registry(
    data: bytes | IO[bytes], agent: PaymentAgent, *, open_months: Collection[date] = ()
) -> ParsedRegistry:
    """Every line of a registry in the agent's layout, or one ValidationError listing the
    problems of the file with their line numbers (nothing is booked from a refused file).

    `data` is the file's bytes or a binary file, read from its start in chunks. A payment
    dated after today or after its payment order is refused; its period may name a month of
    the last RECENT_MONTHS up to the current one, or one of `open_months` (the open periods).
    """
    text = _Text(_source(data), agent)
    today = clock.today()
    errors = _Errors()
    lines: list[RegistryLine] = []
    summary = None
    count = 0
    rows = 0
    seen: dict[str, RegistryLine] = {}
    reader = _Reader(agent, today=today, open_months=open_months)
    for number, row in enumerate(text, start=1):
        if not row.strip():
            continue
        rows += 1
        if "\x00" in row:  # the database refuses it in any text
            errors.add(_error(number, "нулевой байт: это не текстовый реестр.", "bad_char"))
        fields = row.split(agent.separator)
        if row.startswith(agent.summary_prefix):
            if summary is not None:
                errors.add(_error(number, "вторая итоговая строка.", "bad_summary"))
                continue
            fields[0] = fields[0].removeprefix(agent.summary_prefix)
            summary = _parse_summary(number, fields, agent, today)
            errors.add(*summary["errors"])
            continue
        if summary is not None:
            errors.add(_error(number, "строка после итоговой строки.", "after_summary"))
        count += 1
        line = _parse_line(number, fields, agent, reader, errors)
        if line is None:
            continue
        first = seen.setdefault(line.operation, line)
        if first is not line and _money_key(first) != _money_key(line):
            errors.add(
                _error(
                    number,
                    "операция %(operation)s уже есть в строке %(first)s с другими данными.",
                    "duplicate_conflict",
                    operation=shown(line.operation),
                    first=first.line,
                )
            )
        lines.append(line)
    if wrong_encoding := text.refusal():
        raise wrong_encoding
    if not rows:
        raise ValidationError("Файл пуст.", code="empty_file")
    if summary is None:
        errors.add(
            ValidationError(
                "Файл обрезан: нет итоговой строки, начинающейся с «%(prefix)s». "
                "Запросите у агента полный файл.",
                code="truncated",
                params={"prefix": agent.summary_prefix},
            )
        )
    else:
        order_date = summary["order_date"]
        for line in lines:
            if order_date is not None and line.paid_on > order_date:
                errors.line(
                    line.line,
                    "дата оплаты %(value)s позже даты платёжного поручения %(order)s.",
                    "after_order_date",
                    value=ru_date(line.paid_on),
                    order=ru_date(order_date),
                )
        errors.add(*_check_totals(summary, lines, count))
    if errors or summary is None:  # no summary is one of the errors
        raise errors.refusal()
    return ParsedRegistry(
        lines=lines,
        total=summary["amount"] if summary["amount"] is not None else _sum(lines),
        transferred=summary["transferred"] or ZERO,
        commission=summary["commission"] or ZERO,
        order_number=summary["order_number"],
        order_date=summary["order_date"],
    )


def _money_key(line: RegistryLine) -> tuple:
    return (line.account, line.amount, line.paid_on)


def _sum(lines: list[RegistryLine]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


# --- Import ---


def _entry(line: RegistryLine, status: str, message: str, amount: bool = True) -> dict:
    return {
        "line": line.line,
        "status": status,
        "date": line.paid_on.isoformat(),
        "operation": line.operation,
        "account": line.account,
        "amount": str(line.amount) if amount else "",
        "message": message,
    }


def _unidentified_reason(line: RegistryLine, account: _Account | None) -> str:
    """Why a line cannot be booked to an account, or "" (nothing is guessed)."""
    if not line.account:
        return "Лицевой счёт не указан."
    if not is_valid_account_number(line.account):
        return (
            f"Номер лицевого счёта «{line.account}» неверен: нужно 10 цифр, "
            "последняя — контрольная."
        )
    if account is None:
        return f"Лицевой счёт {line.account} не найден."
    if account.closed_on is not None and account.closed_on < line.paid_on:
        return (
            f"Лицевой счёт {line.account} закрыт {ru_date(account.closed_on)}, "
            f"платёж от {ru_date(line.paid_on)}."
        )
    if account.opened_on > line.paid_on:
        return (
            f"Лицевой счёт {line.account} открыт {ru_date(account.opened_on)}, "
            f"позже платежа от {ru_date(line.paid_on)}."
        )
    return ""


def _duplicate_file(digest: str) -> ValidationError | None:
    earlier = RegistryImport.objects.filter(sha256=digest).select_related("agent").first()
    if earlier is None:
        return None
    return ValidationError(
        "Этот файл уже загружен %(when)s (%(name)s, %(agent)s): повторно платежи не учитываются.",
        code="duplicate_file",
        params={
            "when": timezone.localtime(earlier.imported_at).strftime("%d.%m.%Y %H:%M"),
            "name": earlier.file_name,
            "agent": earlier.agent.name,
        },
    )


def _any_of(values: Iterable[str]) -> RawSQL:
    """For `field__in=`: the values as one array parameter. A plain __in list of a file's
    100 000 operations costs Django a second to prepare, value by value."""
    return RawSQL("SELECT unnest(%s::text[])", [list(values)])


def _earlier_operations(
    agent: PaymentAgent, lines: list[RegistryLine]
) -> tuple[dict[str, str], list[ValidationError]]:
    """Operations of the file already booked or set aside: operation -> report message.
    The same operation with other data is an error of the file."""
    operations = {line.operation for line in lines}
    earlier: dict[str, tuple[tuple, str]] = {}
    for payment in Payment.objects.filter(
        source=Payment.Source.BANK_REGISTRY,
        external_id__in=_any_of(payment_external_id(agent, op) for op in operations),
    ).select_related("account"):
        operation = payment.external_id.removeprefix(f"{agent.code}:")
        earlier[operation] = (
            (payment.account.number, payment.amount, payment.paid_on),
            f"Операция уже учтена: платёж от {ru_date(payment.paid_on)} "
            f"на лицевой счёт {payment.account.number}.",
        )
    for item in UnidentifiedPayment.objects.filter(
        agent=agent, external_id__in=_any_of(operations)
    ):
        if item.payment_id is None:
            message = "Операция уже загружена раньше и ждёт выяснения (невыясненный платёж)."
        else:
            message = "Операция уже загружена раньше; невыясненный платёж зачислен сотрудником."
        earlier[item.external_id] = ((item.account_number, item.amount, item.paid_on), message)
    errors = [
        _error(
            line.line,
            "операция %(operation)s уже учтена с другими данными (лицевой счёт, сумма или "
            "дата). Файл не загружен: выясните у агента, какие данные верны.",
            "payment_conflict",
            operation=line.operation,
        )
        for line in lines
        if line.operation in earlier and earlier[line.operation][0] != _money_key(line)
    ]
    return {operation: message for operation, (_, message) in earlier.items()}, errors


def _missing_period(month: date, periods: dict[date, str], current: date) -> date | None:
    """The period book_payments would create to book a payment of `month` (the first open
    one from that month on, created when missing), unless it is the current month's: a
    registry never creates a period from its dates."""
    while (status := periods.get(month)) == Period.Status.CLOSED:
        month = add_months(month, 1)
    return month if status is None and month != current else None


def _check_periods(lines: list[RegistryLine], periods: dict[date, str], errors: _Errors) -> None:
    """Lines whose payment day has no period to be booked in (periods: month -> status)."""
    current = month_start(clock.today())
    missing: dict[date, date | None] = {}
    for line in lines:
        month = month_start(line.paid_on)
        if month not in missing:
            missing[month] = _missing_period(month, periods, current)
        if missing[month] is not None:
            errors.line(
                line.line,
                "дата оплаты %(date)s: нет расчётного периода %(month)s, в котором учесть "
                "платёж, а из реестра периоды не создаются. Проверьте дату у агента.",
                "no_period",
                date=ru_date(line.paid_on),
                month=f"{missing[month]:%m.%Y}",
            )


@transaction.atomic(durable=True)
def import_registry(
    *, agent: PaymentAgent, data: bytes | IO[bytes], file_name: str, user: User | None = None
) -> RegistryImport:
    """Import one registry file (its bytes or a binary file, read in chunks) in one
    transaction; see the module docstring.

    The same file twice is refused (unique sha256: a concurrent import of the same file waits
    on the index and is refused when the first commits). Payments are booked with one
    `book_payments` call, which locks the accounts in primary-key order. A staff member
    needs the right to load registries (a bank's job, with no user, does not).
    """
    permissions.require(user, "import_registry")
    stream = _source(data)
    digest = _digest(stream)
    if duplicate := _duplicate_file(digest):
        raise duplicate
    if not agent.is_active:
        raise ValidationError(
            "Агент «%(agent)s» отключён: его реестры не загружаются.",
            code="agent_inactive",
            params={"agent": agent.name},
        )
    periods = dict(Period.objects.values_list("month", "status"))
    open_months = {month for month, status in periods.items() if status == Period.Status.OPEN}
    parsed = parse_registry(stream, agent, open_months=open_months)
    errors = _Errors()
    _check_periods(parsed.lines, periods, errors)
    earlier, conflicts = _earlier_operations(agent, parsed.lines)
    errors.add(*conflicts)
    if errors:
        raise errors.refusal()
    try:
        with transaction.atomic():
            registry = RegistryImport.objects.create(
                agent=agent,
                file_name=file_name.replace("\x00", "")[:255],  # a text column holds no NUL
                sha256=digest,
                imported_by=user,
                order_number=parsed.order_number[:50],
                order_date=parsed.order_date,
                lines=len(parsed.lines),
                total=parsed.total,
            )
    except IntegrityError:
        raise _duplicate_file(digest) or ValidationError(
            "Файл загружается одновременно другим сотрудником.", code="duplicate_file"
        ) from None

    accounts = {
        account.number: account
        for account in map(
            _Account._make,
            PersonalAccount.objects.filter(
                number__in=_any_of({line.account for line in parsed.lines})
            ).values_list(*_Account._fields),
        )
    }
    report: list[dict] = []
    to_book: list[tuple[RegistryLine, _Account]] = []
    unidentified: list[UnidentifiedPayment] = []
    first_line: dict[str, int] = {}
    for line in parsed.lines:
        if line.operation in first_line:
            message = f"Операция повторяется в файле (строка {first_line[line.operation]})."
            report.append(_entry(line, Status.SKIPPED, message))
            continue
        first_line[line.operation] = line.line
        if line.operation in earlier:
            report.append(_entry(line, Status.SKIPPED, earlier[line.operation]))
            continue
        account = accounts.get(line.account)
        reason = _unidentified_reason(line, account)
        if reason or account is None:  # no account always has a reason
            unidentified.append(_unidentified(registry, line, reason))
            report.append(_entry(line, Status.UNIDENTIFIED, reason))
            report.extend(
                _entry(line, Status.READING_REFUSED, _reading_refused(field, reason), False)
                for field in line.readings
            )
            continue
        to_book.append((line, account))
        report.append(_entry(line, Status.BOOKED, f"Учтён на лицевой счёт {account.number}."))

    if to_book:
        try:
            with transaction.atomic():
                book_payments(
                    [_new_payment(registry, line, account) for line, account in to_book],
                    user=user,
                )
        except IntegrityError:
            raise ValidationError(
                "Операции этого файла одновременно загружаются из другого реестра. "
                "Повторите загрузку через минуту.",
                code="concurrent_import",
            ) from None
    UnidentifiedPayment.objects.bulk_create(unidentified)
    report.extend(_submit_readings(to_book, user=user))
    report.sort(key=lambda entry: entry["line"])  # stable: a payment before its readings

    registry.booked = len(to_book)
    registry.booked_total = _sum([line for line, _ in to_book])
    registry.skipped = sum(1 for entry in report if entry["status"] == Status.SKIPPED)
    registry.unidentified = len(unidentified)
    registry.unidentified_total = sum((item.amount for item in unidentified), ZERO)
    registry.readings = sum(1 for entry in report if entry["status"] == Status.READING_ACCEPTED)
    registry.report = report
    registry.save(
        update_fields=[
            "booked",
            "booked_total",
            "skipped",
            "unidentified",
            "unidentified_total",
            "readings",
            "report",
        ]
    )
    logger.info(
        "registry %s of agent %s imported: %s booked, %s skipped, %s unidentified",
        registry.pk,
        agent.pk,
        registry.booked,
        registry.skipped,
        registry.unidentified,
    )
    return registry


def _new_payment(registry: RegistryImport, line: RegistryLine, account: _Account) -> NewPayment:
    return NewPayment(
        account_id=account.pk,
        amount=line.amount,
        paid_on=line.paid_on,
        source=Payment.Source.BANK_REGISTRY,
        external_id=payment_external_id(registry.agent, line.operation),
        for_month=line.for_month,
        agent_id=registry.agent_id,
        registry_id=registry.pk,
    )


def _unidentified(registry: RegistryImport, line: RegistryLine, reason: str) -> UnidentifiedPayment:
    return UnidentifiedPayment(
        agent_id=registry.agent_id,
        registry=registry,
        line_number=line.line,
        external_id=line.operation,
        paid_on=line.paid_on,
        amount=line.amount,
        account_number=line.account[:30],
        payer=line.payer[:300],
        address=line.address[:300],
        period=line.period[:10],
        reason=reason[:300],
    )


def _reading_refused(field: ReadingField, reason: str) -> str:
    return f"Показание «{field.text}» не принято: {reason[0].lower()}{reason[1:]}"


def _submit_readings(
    booked: list[tuple[RegistryLine, _Account]], *, user: User | None
) -> list[dict]:
    """Readings of the booked lines, dated by the payment, in one `submit_readings` batch
    (in file order, as if one by one); each refusal reported alone."""
    with_readings = [(line, account) for line, account in booked if line.readings]
    if not with_readings:
        return []
    meters: dict[tuple[int, str], Meter] = {}
    for meter in Meter.objects.filter(
        account_id__in={account.pk for _, account in with_readings},
        serial__in={field.serial for line, _ in with_readings for field in line.readings},
    ).order_by(F("removed_on").asc(nulls_first=True), "-pk"):  # installed before removed
        meters.setdefault((meter.account_id, meter.serial), meter)
    # Each field of each line: its refusal message, or its place in the batch.
    fields: list[tuple[RegistryLine, ReadingField, str | int]] = []
    batch: list[NewReading] = []
    for line, account in with_readings:
        for field in line.readings:
            meter = meters.get((account.pk, field.serial))
            if field.value is None:
                refusal = field.refusal or (
                    f"Показание «{shown(field.text)}» не распознано: "
                    "нужно «номер счётчика:показание»."
                )
            elif meter is None:
                refusal = f"Счётчик № {field.serial} не найден на лицевом счёте {account.number}."
            else:
                fields.append((line, field, len(batch)))
                batch.append(NewReading(meter.pk, field.value, taken_on=line.paid_on))
                continue
            fields.append((line, field, refusal))
    outcomes = submit_readings(
        readings=batch, channel=MeterReading.Channel.BANK_REGISTRY, submitted_by=user
    )
    report = []
    for line, field, refusal_or_index in fields:
        if isinstance(refusal_or_index, str):
            report.append(_entry(line, Status.READING_REFUSED, refusal_or_index, False))
            continue
        outcome = outcomes[refusal_or_index]
        if isinstance(outcome, ValidationError):
            message = f"Счётчик № {field.serial}: {outcome.messages[0]}"
            report.append(_entry(line, Status.READING_REFUSED, message, False))
        else:
            report.append(_entry(line, Status.READING_ACCEPTED, outcome.message, False))
    return report


# --- Unidentified payments ---


@transaction.atomic
def resolve_unidentified(*, unidentified_id: int, account_id: int, user: User) -> Payment:
    """Staff name the account of an unidentified payment: an ordinary payment is booked with
    the line's operation number, date, amount and agent, and the row is marked resolved.
    Locks the unidentified row, so two staff cannot book it twice."""
    permissions.require(user, "resolve_unidentified")
    item = (
        UnidentifiedPayment.objects.select_for_update()
        .select_related("agent")
        .get(pk=unidentified_id)
    )
    if item.status == UnidentifiedPayment.Status.RESOLVED:
        raise ValidationError("Этот платёж уже зачислен на лицевой счёт.", code="already_resolved")
    account = PersonalAccount.objects.get(pk=account_id)
    if (account.closed_on is not None and account.closed_on < item.paid_on) or (
        account.opened_on > item.paid_on
    ):
        raise ValidationError(
            "Лицевой счёт %(number)s не был открыт на дату платежа %(date)s.",
            code="account_closed",
            params={"number": account.number, "date": ru_date(item.paid_on)},
        )
    for_month = _date(item.period, item.agent.period_format) if item.period else None
    (payment,) = register_payments(
        [
            NewPayment(
                account_id=account.pk,
                amount=item.amount,
                paid_on=item.paid_on,
                source=Payment.Source.BANK_REGISTRY,
                external_id=payment_external_id(item.agent, item.external_id),
                for_month=for_month,
                agent_id=item.agent_id,
                registry_id=item.registry_id,
            )
        ],
        user=user,
    )
    item.status = UnidentifiedPayment.Status.RESOLVED
    item.payment = payment
    item.resolved_by = user
    item.resolved_at = clock.now()
    item.save(update_fields=["status", "payment", "resolved_by", "resolved_at"])
    return payment


# --- Reconciliation ---


@dataclass(frozen=True)
class ReconciliationRow:
    """One agent and payment day: what its registries say against what was booked."""

    agent: str
    day: date
    registry_total: Decimal  # every payment line of its registries dated that day
    booked_total: Decimal  # payments of the agent paid that day
    unidentified_total: Decimal  # still waiting for an account

    @property
    def difference(self) -> Decimal:
        return self.registry_total - self.booked_total - self.unidentified_total

    @property
    def differs(self) -> bool:
        return self.difference != ZERO


def reconciliation_report(*, date_from: date, date_to: date) -> list[ReconciliationRow]:
    """Per agent and payment day from date_from to date_to inclusive: registry lines (by the
    payment dates in the import reports; a line repeated in another file counts again, so
    a re-sent operation shows as a difference), booked payments and open unidentified ones."""
    money = DecimalField(max_digits=14, decimal_places=2)
    totals: dict[tuple[int, date], dict[str, Decimal]] = defaultdict(
        lambda: {"registry": ZERO, "booked": ZERO, "unidentified": ZERO}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.agent_id, (e->>'date')::date AS day, sum(NULLIF(e->>'amount', '')::numeric)
            FROM billing_registryimport r, jsonb_array_elements(r.report) e
            WHERE e->>'status' = ANY(%s) AND (e->>'date')::date BETWEEN %s AND %s
            GROUP BY 1, 2
            """,
            [list(Status.PAYMENT_LINE), date_from, date_to],
        )
        for agent_id, day, total in cursor.fetchall():
            totals[(agent_id, day)]["registry"] = total
    booked = (
        Payment.objects.filter(agent__isnull=False, paid_on__range=(date_from, date_to))
        .order_by()
        .values_list("agent_id", "paid_on")
        .annotate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=money))
    )
    for agent_id, day, total in booked:
        totals[(agent_id, day)]["booked"] = total
    waiting = (
        UnidentifiedPayment.objects.filter(
            status=UnidentifiedPayment.Status.OPEN, paid_on__range=(date_from, date_to)
        )
        .order_by()
        .values_list("agent_id", "paid_on")
        .annotate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=money))
    )
    for agent_id, day, total in waiting:
        totals[(agent_id, day)]["unidentified"] = total
    names = dict(
        PaymentAgent.objects.filter(pk__in={key[0] for key in totals}).values_list("pk", "name")
    )
    rows = [
        ReconciliationRow(
            agent=names[agent_id],
            day=day,
            registry_total=to_kopecks(Decimal(sums["registry"])),
            booked_total=sums["booked"],
            unidentified_total=sums["unidentified"],
        )
        for (agent_id, day), sums in totals.items()
    ]
    return sorted(rows, key=lambda row: (row.day, row.agent))
