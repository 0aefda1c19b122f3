"""Payment registries from banks and the post (formats.md section 1; issue 5).

Each agent's layout is data (`PaymentAgent`). A file is parsed whole first, without the
database: a wrong encoding, a missing summary line, a line that cannot be read, or a count or
total that disagrees with the lines refuses the file, every problem listed with its line
number, and nothing is written. Then, in one durable transaction, each line is booked, skipped
(already booked) or set aside as an unidentified payment with its reason; readings carried in
the line go through `submit_readings`, and a refused reading never refuses the payment.
"""

import codecs
import functools
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PersonalAccount, User
from accounts.russian import ru_date
from accounts.validators import is_valid_account_number
from billing.amount_words import format_rub
from billing.models import (
    Payment,
    PaymentAgent,
    RegistryImport,
    UnidentifiedPayment,
)
from billing.money import ZERO, to_kopecks
from billing.services import NewPayment, book_payments, register_payments
from meters.models import Meter, MeterReading
from meters.services import NewReading, submit_readings
from vodokanal import clock

MONEY_RE = re.compile(r"^\d+(\.\d{1,2})?$")
READING_RE = re.compile(r"^\d+(\.\d+)?$")
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
    """A `serial:value` field of a line; value None when it is not a number."""

    serial: str
    value: Decimal | None
    text: str


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


def _money(text: str) -> Decimal | None:
    text = text.replace(" ", "").replace("\xa0", "").replace(",", ".")
    return to_kopecks(Decimal(text)) if MONEY_RE.match(text) else None


def _date(text: str, fmt: str) -> date | None:
    try:
        return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        return None


def _decode(data: bytes, agent: PaymentAgent) -> str:
    """The file's text in the agent's encoding; a file in another encoding is refused
    (cp1251 decodes almost any bytes, so a UTF-8 file must be recognised, not misread)."""
    try:
        encoding = codecs.lookup(agent.encoding).name
    except LookupError:
        raise _error(
            None,
            "В формате агента «%(agent)s» указана неизвестная кодировка «%(encoding)s».",
            "bad_encoding",
            agent=agent.name,
            encoding=agent.encoding,
        ) from None
    if encoding != "utf-8" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise _wrong_encoding(agent, " (файл в UTF-8)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = None
    if encoding != "utf-8":  # UTF-8 Cyrillic read as cp1251 is "Р" or "С" + a sign
        misread = text if text is not None else data.decode(encoding, errors="replace")
        pairs = len(_MOJIBAKE_RE.findall(misread))
        if pairs >= 3 and pairs * 4 >= len(_CYRILLIC_RE.findall(misread)):
            raise _wrong_encoding(agent, " (похоже на UTF-8)")
    if text is None:
        raise _wrong_encoding(agent)
    return text.removeprefix("\ufeff")


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
        value = Decimal(raw) if serial.strip() and READING_RE.match(raw) else None
        result.append(ReadingField(serial.strip() or text, value, text))
    return tuple(result)


class _Reader:
    """Reads the dates and sums of one file, each distinct text once: a registry's lines
    repeat the payment day, the period and many amounts, and strptime is slow."""

    def __init__(self, agent: PaymentAgent) -> None:
        self.agent = agent
        self._dates: dict[tuple[str, str], date | None] = {}
        self._amounts: dict[str, Decimal | None] = {}

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


def _parse_line(
    number: int, fields: list[str], agent: PaymentAgent, reader: _Reader
) -> tuple[RegistryLine | None, list[ValidationError]]:
    columns = agent.columns
    needed = reader.needed
    if len(fields) < needed:
        return None, [
            _error(
                number,
                "полей %(found)s, а нужно не меньше %(needed)s (разделитель «%(sep)s»).",
                "missing_fields",
                found=len(fields),
                needed=needed,
                sep=agent.separator,
            )
        ]

    def get(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    errors = []
    date_text, time_text, operation = get("date"), get("time"), get("operation")
    if not date_text:
        errors.append(_error(number, "не указана дата оплаты.", "missing_fields"))
    if not operation:
        errors.append(_error(number, "не указан номер операции.", "missing_fields"))
    paid_on = reader.date_of(date_text, agent.date_format)
    if date_text and paid_on is None:
        errors.append(
            _error(
                number,
                "дата оплаты «%(value)s» не в формате %(format)s.",
                "bad_date",
                value=date_text,
                format=_human(agent.date_format),
            )
        )
    if time_text and agent.time_format and reader.date_of(time_text, agent.time_format) is None:
        errors.append(
            _error(
                number,
                "время оплаты «%(value)s» не в формате %(format)s.",
                "bad_time",
                value=time_text,
                format=_human(agent.time_format),
            )
        )
    if len(payment_external_id(agent, operation)) > 64:
        errors.append(_error(number, "номер операции длиннее допустимого.", "bad_operation"))
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
            errors.append(
                _error(
                    number,
                    "%(title)s «%(value)s» не число в рублях с копейками.",
                    "bad_amount",
                    title=title,
                    value=text,
                )
            )
    if amounts["amount"] is not None and amounts["amount"] <= ZERO:
        errors.append(
            _error(number, "сумма платежа должна быть больше нуля.", "amount_not_positive")
        )
    period = get("period")
    for_month = reader.date_of(period, agent.period_format) if period else None
    if period and for_month is None:
        errors.append(
            _error(
                number,
                "период «%(value)s» не в формате %(format)s.",
                "bad_period",
                value=period,
                format=_human(agent.period_format),
            )
        )
    if errors or paid_on is None:
        return None, errors
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
    ), []


def _parse_summary(number: int, fields: list[str], agent: PaymentAgent) -> dict:
    columns = agent.summary_columns

    def get(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    summary: dict = {"number": number, "errors": []}
    count = get("count")
    summary["count"] = int(count) if count.isdigit() else None
    if summary["count"] is None:
        summary["errors"].append(
            _error(
                number,
                "в итоговой строке количество платежей «%(value)s» не число.",
                "bad_summary",
                value=count,
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
                    value=get(name),
                )
            )
    summary["order_number"] = get("order_number")
    summary["order_date"] = _date(get("order_date"), agent.date_format)
    if get("order_date") and summary["order_date"] is None:
        summary["errors"].append(
            _error(
                number,
                "дата платёжного поручения «%(value)s» не в формате %(format)s.",
                "bad_summary",
                value=get("order_date"),
                format=_human(agent.date_format),
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
    return errors


def parse_registry(data: bytes, agent: PaymentAgent) -> ParsedRegistry:
    """Every line of a registry in the agent's layout, or one ValidationError listing every
    problem of the file with its line number (nothing is booked from a refused file)."""
    text = _decode(data, agent)
    rows = [(n, row) for n, row in enumerate(text.splitlines(), start=1) if row.strip()]
    if not rows:
        raise ValidationError("Файл пуст.", code="empty_file")
    errors: list[ValidationError] = []
    lines: list[RegistryLine] = []
    summary = None
    count = 0
    seen: dict[str, RegistryLine] = {}
    reader = _Reader(agent)
    for number, row in rows:
        fields = row.split(agent.separator)
        if row.startswith(agent.summary_prefix):
            if summary is not None:
                errors.append(_error(number, "вторая итоговая строка.", "bad_summary"))
                continue
            fields[0] = fields[0].removeprefix(agent.summary_prefix)
            summary = _parse_summary(number, fields, agent)
            errors.extend(summary["errors"])
            continue
        if summary is not None:
            errors.append(_error(number, "строка после итоговой строки.", "after_summary"))
        count += 1
        line, line_errors = _parse_line(number, fields, agent, reader)
        errors.extend(line_errors)
        if line is None:
            continue
        first = seen.setdefault(line.operation, line)
        if first is not line and _money_key(first) != _money_key(line):
            errors.append(
                _error(
                    number,
                    "операция %(operation)s уже есть в строке %(first)s с другими данными.",
                    "duplicate_conflict",
                    operation=line.operation,
                    first=first.line,
                )
            )
        lines.append(line)
    if summary is None:
        errors.append(
            ValidationError(
                "Файл обрезан: нет итоговой строки, начинающейся с «%(prefix)s». "
                "Запросите у агента полный файл.",
                code="truncated",
                params={"prefix": agent.summary_prefix},
            )
        )
    else:
        errors.extend(_check_totals(summary, lines, count))
    if errors or summary is None:  # no summary is one of the errors
        raise ValidationError(errors)
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


@transaction.atomic(durable=True)
def import_registry(
    *, agent: PaymentAgent, data: bytes, file_name: str, user: User | None = None
) -> RegistryImport:
    """Import one registry file in one transaction; see the module docstring.

    The same file twice is refused (unique sha256: a concurrent import of the same file waits
    on the index and is refused when the first commits). Payments are booked with one
    `book_payments` call, which locks the accounts in primary-key order.
    """
    digest = hashlib.sha256(data).hexdigest()
    if duplicate := _duplicate_file(digest):
        raise duplicate
    if not agent.is_active:
        raise ValidationError(
            "Агент «%(agent)s» отключён: его реестры не загружаются.",
            code="agent_inactive",
            params={"agent": agent.name},
        )
    parsed = parse_registry(data, agent)
    earlier, conflicts = _earlier_operations(agent, parsed.lines)
    if conflicts:
        raise ValidationError(conflicts)
    try:
        with transaction.atomic():
            registry = RegistryImport.objects.create(
                agent=agent,
                file_name=file_name[:255],
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
                refusal = (
                    f"Показание «{field.text}» не распознано: нужно «номер счётчика:показание»."
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
