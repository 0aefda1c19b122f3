"""CSV files the portal writes for Excel, safe to open: a cell that begins like a formula
(`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`) gets a leading apostrophe, so a spreadsheet shows
it as text and never runs it (CSV injection). Every CSV the portal writes goes through
`writer`: names typed by organisations, rows of uploaded files and anything else that came
from outside. The bottom layer: imports no app."""

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

# What Excel, LibreOffice and Google Sheets read as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: object) -> str:
    """The text of one cell: a number as is, a text that could run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a number, even a negative one, is never a formula
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class SafeWriter:
    """csv.writer whose every cell goes through `cell`."""

    def __init__(self, stream: _Writable, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable, *, delimiter: str = ";") -> SafeWriter:
    """A writer for Excel in a Russian locale: `;` between fields (the comma is decimal)."""
    return SafeWriter(stream, delimiter=delimiter)
