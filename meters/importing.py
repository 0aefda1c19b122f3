"""Import of controllers' readings from CSV or XLSX (docs/formats.md §7).

The file is checked whole first: a wrong encoding, missing columns or a value that is not a
number or a date refuses the file and writes nothing. Then, in one transaction, the rows go
through `submit_readings` (channel "controller import"), each accepted or rejected with its
reason; rejected rows make the downloadable report. The same file twice is refused.

A file is read in chunks, never whole: over READINGS_IMPORT_MAX_BYTES it is refused, a CSV is
decoded line by line, an XLSX is read row by row (openpyxl's read-only mode) up to
READINGS_IMPORT_MAX_ROWS rows and READINGS_IMPORT_MAX_COLUMNS columns, after its unpacked size
is checked. A reading is bounded where it is read (no meter shows more than MAX_READING), and
at most IMPORT_MAX_ERRORS bad rows are named. The report of rejected rows is a CSV written
through vodokanal.common.csv_safe: a cell as uploaded is never run by Excel as a formula."""

import codecs
import csv
import hashlib
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from meters.models import ImportBatch, Meter, MeterReading
from meters.services import NewReading, submit_readings
from vodokanal.common import csv_safe
from vodokanal.common.russian import ru_date, ru_volume, shown, size_text

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
# The largest reading a meter shows (MeterReading.value: max_digits=12, decimal_places=3).
MAX_READING = Decimal("999999999.999")
CHUNK_BYTES = 256 * 1024
# A CSV line longer than this is not a row of readings (junk without line breaks stops here).
MAX_LINE_CHARS = 65_536
# An XLSX is a zip: its parts unpacked may be this many times the size limit of the upload.
XLSX_UNPACKED_RATIO = 20


@dataclass(frozen=True)
class Row:
    line: int
    account: str
    serial: str
    value: Decimal
    taken_on: date


def _file_error(message: str, code: str, **params: object) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def too_large() -> ValidationError:
    """The refusal of a file over READINGS_IMPORT_MAX_BYTES (the upload form checks it first)."""
    return _file_error(
        "Файл больше %(max)s: разделите его на части и загрузите по очереди.",
        "too_large",
        max=size_text(settings.READINGS_IMPORT_MAX_BYTES),
    )


def _too_many_rows() -> ValidationError:
    return _file_error(
        "В файле больше %(max)s строк: разделите его на части и загрузите по очереди.",
        "too_many_rows",
        max=f"{settings.READINGS_IMPORT_MAX_ROWS:,}".replace(",", "\xa0"),
    )


def _source(content: bytes | IO[bytes]) -> IO[bytes]:
    """The file from its first byte: bytes as a stream, a file rewound."""
    if isinstance(content, bytes | bytearray | memoryview):
        return io.BytesIO(content)
    content.seek(0)
    return content


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The file from its start in chunks; refused once over READINGS_IMPORT_MAX_BYTES."""
    stream.seek(0)
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > settings.READINGS_IMPORT_MAX_BYTES:
            raise too_large()
        yield chunk


def _digest(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(stream):
        digest.update(chunk)
    return digest.hexdigest()


# --- Reading the table: rows of texts ---


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    return str(value)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    """The rows of the first sheet, read row by row; a part that unpacks too large (a zip
    bomb) or a sheet that cannot be read refuses the file."""
    broken = _file_error("Файл XLSX повреждён или это не таблица Excel.", "bad_xlsx")
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise broken from None
    # The zip's own sizes bound what is unpacked: zipfile reads no more than they say.
    if unpacked > settings.READINGS_IMPORT_MAX_BYTES * XLSX_UNPACKED_RATIO:
        raise _file_error(
            "Файл XLSX после распаковки больше %(max)s: это не таблица показаний.",
            "too_large",
            max=size_text(settings.READINGS_IMPORT_MAX_BYTES * XLSX_UNPACKED_RATIO),
        )
    from openpyxl import load_workbook

    stream.seek(0)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as error:  # openpyxl fails on bad files in many ways
        raise broken from error
    try:
        # The sheet's declared size is not trusted: at most the caps are read (and one row
        # more, to know the file has more).
        for values in book.active.iter_rows(
            max_row=settings.READINGS_IMPORT_MAX_ROWS + 1,
            max_col=settings.READINGS_IMPORT_MAX_COLUMNS,
            values_only=True,
        ):
            yield [_xlsx_text(value) for value in values]
    except Exception as error:  # a sheet that cannot be read
        raise broken from error
    finally:
        book.close()


def _csv_format(stream: IO[bytes]) -> tuple[str, str]:
    """The encoding (UTF-8, else Windows-1251) and the separator of a CSV, read in chunks."""
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8-sig", "cp1251")}
    semicolons = commas = 0
    for chunk in itertools.chain(_chunks(stream), [b""]):  # b"": the end
        if b"\x00" in chunk:
            raise _file_error("Не удалось прочитать файл: это не текстовый CSV.", "bad_encoding")
        semicolons += chunk.count(b";")
        commas += chunk.count(b",")
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                del decoders[name]
    if not decoders:
        raise _file_error(
            "Не удалось прочитать файл: нужна кодировка UTF-8 или Windows-1251.", "bad_encoding"
        )
    # Russian Excel writes ';' (the comma is the decimal separator); others write ','.
    return next(iter(decoders)), ";" if semicolons >= commas else ","


def _csv_lines(stream: IO[bytes], encoding: str) -> Iterator[str]:
    """The lines of a CSV, each with its "\\n" (as csv.reader wants them), decoded chunk by
    chunk; a line longer than MAX_LINE_CHARS refuses the file."""
    decoder = codecs.getincrementaldecoder(encoding)()
    rest = ""
    number = 0
    for chunk in itertools.chain(_chunks(stream), [b""]):  # b"": the end
        final = not chunk
        lines = (rest + decoder.decode(chunk, final)).split("\n")
        rest = "" if final else lines.pop()  # continues in the next chunk
        if final and lines[-1] == "":
            lines.pop()  # after the last line break
        for line in lines:
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise _line_too_long(number)
            yield line + "\n"
        if len(rest) > MAX_LINE_CHARS:
            raise _line_too_long(number + 1)


def _line_too_long(number: int) -> ValidationError:
    return _file_error(
        "Строка %(line)s длиннее %(max)s знаков: это не таблица показаний.",
        "line_too_long",
        line=number,
        max=f"{MAX_LINE_CHARS:,}".replace(",", "\xa0"),
    )


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    encoding, delimiter = _csv_format(stream)
    reader = csv.reader(_csv_lines(stream, encoding), delimiter=delimiter)
    columns = settings.READINGS_IMPORT_MAX_COLUMNS
    try:
        for cells in reader:
            yield cells[:columns]
    except csv.Error:
        raise _file_error(
            "Файл CSV испорчен около строки %(line)s: проверьте кавычки и переводы строк.",
            "bad_csv",
            line=reader.line_num,
        ) from None


def _read_table(name: str, stream: IO[bytes]) -> Iterator[list[str]]:
    if name.lower().endswith(".xlsx"):
        return _xlsx_rows(stream)
    if not name.lower().endswith(".csv"):
        raise _file_error("Загрузите файл CSV или XLSX.", "bad_extension")
    return _csv_rows(stream)


# --- Rows of readings ---


def _parse_date(text: str) -> date:
    text = text.strip()
    if not text.isascii():  # strptime's digits are any script's
        raise ValueError(text)
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(text)


def _number(text: str) -> Decimal | None:
    """A finite number written with ASCII digits ("120.5", "1e3"), or None."""
    if not text.isascii():
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _positions(header: list[str]) -> dict[str, int]:
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
    return positions


def parse_rows(name: str, content: bytes | IO[bytes]) -> list[Row]:
    """All rows of the file (its bytes or a binary file, read in chunks) or a ValidationError
    naming its bad rows with their line numbers: the first IMPORT_MAX_ERRORS, and how many
    more. Lines are counted among the non-empty rows, the header first."""
    limit = max(settings.IMPORT_MAX_ERRORS, 1)
    header: list[str] | None = None
    positions: dict[str, int] = {}
    rows: list[Row] = []
    errors: list[str] = []
    more = 0
    line = 1
    for read, cells in enumerate(_read_table(name, _source(content)), start=1):
        if read > settings.READINGS_IMPORT_MAX_ROWS:
            raise _too_many_rows()
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            positions = _positions(header)
            continue
        line += 1
        cells = [*cells, *[""] * (len(header) - len(cells))]
        raw = {key: cells[position].strip() for key, position in positions.items()}
        problem = None
        value = _number(raw["value"].replace(",", ".").replace(" ", "").replace("\xa0", ""))
        taken_on = None
        if value is None:
            problem = f"строка {line}: показание «{shown(raw['value'])}» не число"
        elif value > MAX_READING:
            problem = (
                f"строка {line}: показание «{shown(raw['value'])}» больше "
                f"{ru_volume(MAX_READING)}, такого счётчики не показывают"
            )
        else:
            try:
                taken_on = _parse_date(raw["taken_on"])
            except ValueError:
                problem = f"строка {line}: дата «{shown(raw['taken_on'])}» не в формате ДД.ММ.ГГГГ"
        if problem is not None:
            if len(errors) < limit:
                errors.append(problem)
            else:
                more += 1
            continue
        rows.append(Row(line, raw["account"], raw["serial"], value, taken_on))  # type: ignore[arg-type]
    if header is None:
        raise _file_error("Файл пуст.", "empty_file")
    if errors:
        raise ValidationError(
            "Файл не загружен, исправьте строки: %(errors)s%(more)s.",
            code="bad_values",
            params={
                "errors": "; ".join(errors),
                "more": f"; и ещё строк с ошибками: {more}" if more else "",
            },
        )
    if not rows:
        raise _file_error("В файле нет строк с показаниями.", "empty_file")
    return rows


@transaction.atomic(durable=True)
def import_controller_readings(
    *, name: str, content: bytes | IO[bytes], uploaded_by: User | None
) -> ImportBatch:
    """Import one file (its bytes or a binary file, read in chunks) in one transaction; see
    the module docstring."""
    stream = _source(content)
    digest = _digest(stream)
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
    rows = parse_rows(name, stream)
    batch = ImportBatch.objects.create(
        file_name=name.replace("\x00", "")[:255],
        sha256=digest,
        uploaded_by=uploaded_by,
        rows_total=len(rows),
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
    """The report of rejected rows: UTF-8 with BOM and ';' so that Excel opens it as is, each
    cell neutralised (vodokanal.common.csv_safe)."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)  # a cell as uploaded is never run as a formula
    writer.writerow(REPORT_HEADER)
    writer.writerows(batch.rejected_rows)
    return buffer.getvalue().encode("utf-8-sig")
