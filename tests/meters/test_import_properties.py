"""Properties of the import of controllers' readings on generated files (hypothesis): a CSV
or XLSX of any content is imported or refused with the import's own ValidationError, never
another exception; a refused file writes nothing; an imported one accounts for each row once
and its report of rejected rows never starts a cell like a formula. The clock is frozen at
27.11.2026 12:00 Moscow time; examples are bounded (max_examples=100)."""

import csv
import io
import math
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.services import account_number_for
from meters.importing import import_controller_readings, rejected_rows_csv
from meters.models import ImportBatch, Meter, MeterReading
from tests.factories import MeterFactory, PersonalAccountFactory

pytestmark = pytest.mark.django_db
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ACCOUNT = account_number_for(525252)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(
        datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Europe/Moscow")), tick=False
    ):
        yield


@pytest.fixture
def meter(db):
    account = PersonalAccountFactory(number=ACCOUNT, opened_on=date(2020, 1, 1))
    return MeterFactory(account=account, serial="A-1", installed_on=date(2020, 1, 1))


# Each cell: what a controller's file holds, and what a hostile or broken one holds instead.
VALID = {
    "account": st.just(ACCOUNT),
    "serial": st.sampled_from(["A-1", "Z-9"]),
    "value": st.decimals(Decimal(100), Decimal(99999), places=3).map(str),
    "date": st.dates(date(2026, 11, 1), date(2026, 11, 26)).map(lambda d: f"{d:%d.%m.%Y}"),
}
HOSTILE = {
    "account": st.sampled_from(['=HYPERLINK("http://evil","x")', "+1", "@A1", "", "-"]),
    "serial": st.text(max_size=20),
    "value": st.one_of(
        st.sampled_from(["1e30", "1e25", "1" + "0" * 25, "NaN", "-inf", "١٢٠", "²", "1e999999999999", "-5", "1E-999999999", ""]),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(max_size=30),
    ),
    "date": st.one_of(
        st.dates().map(lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}"),
        st.sampled_from(["31.02.2026", "2999-01-01", "01-01-0001", "١٧.١١.٢٠٢٦", ""]),
        st.text(max_size=12),
    ),
}  # fmt: skip
HEADER = ["Лицевой счёт", "Счётчик", "Показание", "Дата"]


@st.composite
def readings_rows(draw, hostile: bool) -> list:
    def cell(name: str) -> str:
        broken = hostile and draw(st.integers(0, 3)) == 0
        return draw(HOSTILE[name] if broken else VALID[name])

    return [cell("account"), cell("serial"), cell("value"), cell("date")]


@st.composite
def csv_files(draw) -> bytes:
    hostile = draw(st.booleans())
    header = HEADER
    if hostile and draw(st.integers(0, 3)) == 0:
        header = draw(st.lists(st.text(max_size=15), max_size=6))
    rows = draw(st.lists(readings_rows(hostile), max_size=8))
    separator = draw(st.sampled_from([";", ","]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator)
    writer.writerows([header, *rows])
    text = buffer.getvalue()
    if hostile and draw(st.booleans()):  # mangled by hand: quotes, breaks, junk
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=10)) + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]))
    return text.encode(encoding, errors="replace")


cells = st.one_of(
    st.none(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(datetime(1900, 1, 1), datetime(9999, 12, 31)),  # noqa: DTZ001 - as Excel keeps
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=20),
)


@st.composite
def xlsx_files(draw) -> bytes:
    hostile = draw(st.booleans())
    book = Workbook()
    sheet = book.active
    if not hostile or draw(st.booleans()):
        sheet.append(HEADER)
    for _ in range(draw(st.integers(0, 6))):
        row = draw(readings_rows(hostile))
        row[2] = _number_or_text(row[2])
        if hostile and draw(st.integers(0, 3)) == 0:
            row = draw(st.lists(cells, max_size=6))
        # What a worksheet can hold: no control characters.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number_or_text(text: str):
    """A reading as Excel keeps it: a number when it is one."""
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def outcome(call):
    """What `call` returns, or the ValidationError it raises (any other exception fails)."""
    try:
        return call(), None
    except ValidationError as error:
        return None, error


@BOUNDED
@given(
    file=st.one_of(
        csv_files().map(lambda content: ("r.csv", content)),
        csv_files().map(lambda content: ("r.csv", content)),
        xlsx_files().map(lambda content: ("r.xlsx", content)),
        st.binary(max_size=500).map(lambda content: ("r.csv", content)),
        st.binary(max_size=500).map(lambda content: ("r.xlsx", b"PK\x03\x04" + content)),
    )
)
def test_the_import_imports_or_refuses_any_file(meter: Meter, file):
    name, content = file
    before = (ImportBatch.objects.count(), MeterReading.objects.count())

    batch, error = outcome(
        lambda: import_controller_readings(name=name, content=content, uploaded_by=None)
    )

    if error is not None:
        event("refused")
        assert (ImportBatch.objects.count(), MeterReading.objects.count()) == before
        assert error.messages[0].strip()
        assert len(error.messages[0]) < 20_000
        return
    event("imported")
    assert batch.rows_accepted + batch.rows_rejected == batch.rows_total
    assert MeterReading.objects.filter(import_batch=batch).count() <= batch.rows_accepted
    report = rejected_rows_csv(batch).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(report), delimiter=";"):
        assert not any(cell.startswith(FORMULA) for cell in row)
