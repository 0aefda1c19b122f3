"""Import of controllers' readings from CSV or XLSX (issue 3).

The file is checked whole first: a wrong encoding, missing columns or a value that is not a
number or a date refuses the file and writes nothing. Then, in one transaction, the rows go
through `submit_readings` (channel "controller import"), each accepted or rejected with its
reason; rejected rows make the downloadable report. The same file twice is refused."""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.russian import ru_date
from meters.models import ImportBatch, Meter, MeterReading
from meters.services import NewReading, submit_readings

COLUMNS = {
    "account": ("лицевой счёт", "лицевой счет", "лс", "account"),
    "serial": ("счётчик", "счетчик", "номер счётчика", "номер счетчика", "serial"),
    "value": ("показание", "показания", "value"),
    "taken_on": ("дата", "дата снятия", "date"),
}
COLUMN_TITLES = {
    "account": "лицевой счёт",
    "serial": "счётчик",
    "value": "показание",
    "taken_on": "дата",
}
REPORT_HEADER = ["строка", "лицевой счёт", "счётчик", "показание", "дата", "причина"]


@dataclass(frozen=True)
class Row:
    line: int
    account: str
    serial: str
    value: Decimal
    taken_on: date


def _file_error(message: str, code: str, **params: object) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _read_table(name: str, content: bytes) -> list[list[str]]:
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as error:
            raise _file_error(
                "Файл XLSX повреждён или это не таблица Excel.", "bad_xlsx"
            ) from error
        return [
            [
                ""
                if cell is None
                else (cell.strftime("%d.%m.%Y") if isinstance(cell, datetime | date) else str(cell))
                for cell in row
            ]
            for row in sheet.iter_rows(values_only=True)
        ]
    if not name.lower().endswith(".csv"):
        raise _file_error("Загрузите файл CSV или XLSX.", "bad_extension")
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error(
            "Не удалось прочитать файл: нужна кодировка UTF-8 или Windows-1251.", "bad_encoding"
        )
    if "\x00" in text:
        raise _file_error("Не удалось прочитать файл: это не текстовый CSV.", "bad_encoding")
    # Russian Excel writes ';' (the comma is the decimal separator); others write ','.
    delimiter = ";" if text.count(";") >= text.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _parse_date(text: str) -> date:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(text)


def parse_rows(name: str, content: bytes) -> list[Row]:
    """All rows of the file or a ValidationError listing every problem with its line number."""
    table = [row for row in _read_table(name, content) if any(cell.strip() for cell in row)]
    if not table:
        raise _file_error("Файл пуст.", "empty_file")
    header = [cell.strip().lower() for cell in table[0]]
    positions = {}
    for key, names in COLUMNS.items():
        found = [i for i, title in enumerate(header) if title in names]
        if found:
            positions[key] = found[0]
    missing = [COLUMN_TITLES[key] for key in COLUMNS if key not in positions]
    if missing:
        raise _file_error(
            "В файле нет столбцов: %(missing)s. Первая строка должна содержать заголовки: "
            "лицевой счёт; счётчик; показание; дата.",
            "missing_columns",
            missing=", ".join(missing),
        )
    rows, errors = [], []
    for line, cells in enumerate(table[1:], start=2):
        cells = [*cells, *[""] * (len(header) - len(cells))]
        raw = {key: cells[position].strip() for key, position in positions.items()}
        try:
            value = Decimal(raw["value"].replace(",", ".").replace(" ", ""))
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors.append(f"строка {line}: показание «{raw['value']}» не число")
            continue
        try:
            taken_on = _parse_date(raw["taken_on"])
        except ValueError:
            errors.append(f"строка {line}: дата «{raw['taken_on']}» не в формате ДД.ММ.ГГГГ")
            continue
        rows.append(Row(line, raw["account"], raw["serial"], value, taken_on))
    if errors:
        raise ValidationError(
            "Файл не загружен, исправьте строки: %(errors)s.",
            code="bad_values",
            params={"errors": "; ".join(errors[:20]) + (" и другие" if len(errors) > 20 else "")},
        )
    if not rows:
        raise _file_error("В файле нет строк с показаниями.", "empty_file")
    return rows


@transaction.atomic(durable=True)
def import_controller_readings(
    *, name: str, content: bytes, uploaded_by: User | None
) -> ImportBatch:
    """Import one file in one transaction; see the module docstring."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = ImportBatch.objects.filter(sha256=digest).first()
    if earlier is not None:
        raise ValidationError(
            "Этот файл уже загружен %(when)s (%(name)s).",
            code="duplicate_file",
            params={
                "when": earlier.uploaded_at.strftime("%d.%m.%Y %H:%M"),
                "name": earlier.file_name,
            },
        )
    rows = parse_rows(name, content)
    batch = ImportBatch.objects.create(
        file_name=name[:255], sha256=digest, uploaded_by=uploaded_by, rows_total=len(rows)
    )
    meters = {
        (meter.account.number, meter.serial): meter
        for meter in Meter.objects.select_related("account")
        .filter(serial__in={row.serial for row in rows})
        .exclude(state=Meter.State.REMOVED)
    }
    found = [(row, meters.get((row.account, row.serial))) for row in rows]
    outcomes = iter(
        submit_readings(
            readings=[
                NewReading(meter_id=meter.pk, value=row.value, taken_on=row.taken_on)
                for row, meter in found
                if meter is not None
            ],
            channel=MeterReading.Channel.CONTROLLER_IMPORT,
            submitted_by=uploaded_by,
            import_batch=batch,
        )
    )
    rejected = []
    for row, meter in found:
        if meter is None:
            reason = "Счётчик с таким номером не найден на этом лицевом счёте."
        else:
            outcome = next(outcomes)
            if not isinstance(outcome, ValidationError):
                continue
            reason = outcome.messages[0]
        rejected.append(
            [
                row.line,
                row.account,
                row.serial,
                str(row.value),
                ru_date(row.taken_on),
                reason,
            ]
        )
    batch.rows_rejected = len(rejected)
    batch.rows_accepted = len(rows) - len(rejected)
    batch.rejected_rows = rejected
    batch.save(update_fields=["rows_rejected", "rows_accepted", "rejected_rows"])
    return batch


def rejected_rows_csv(batch: ImportBatch) -> bytes:
    """The report of rejected rows: UTF-8 with BOM and ';' so that Excel opens it as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(REPORT_HEADER)
    writer.writerows(batch.rejected_rows)
    return buffer.getvalue().encode("utf-8-sig")
