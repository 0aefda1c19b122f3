"""vodokanal.common.csv_safe, the one writer of the portal's CSV files (the controllers' rejected rows,
the public debtor list): a cell that begins like a formula is written as text."""

import csv
import io
from decimal import Decimal

import pytest

from vodokanal.common import csv_safe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("ООО «Ромашка»", "ООО «Ромашка»"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, "-5"),  # a number is never a formula
        (Decimal("-1.50"), "-1.50"),
        (12, "12"),
    ],
)
def test_a_cell_that_could_run_as_a_formula_is_written_as_text(value, written):
    assert csv_safe.cell(value) == written


def test_the_writer_neutralises_every_cell_and_keeps_the_excel_layout():
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)

    writer.writerow(["имя", "=1+1"])
    writer.writerows([["@A1;", 3], ["x", None]])

    assert buffer.getvalue() == "имя;'=1+1\r\n\"'@A1;\";3\r\nx;\r\n"
    assert list(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";"))[1] == ["'@A1;", "3"]
