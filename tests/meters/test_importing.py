"""Import of controllers' readings: rows through submit_reading, a report of rejected rows,
bad files refused whole, the same file twice refused."""

import io
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
