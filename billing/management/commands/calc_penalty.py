"""`manage.py calc_penalty INPUT.json`: the penalty for the JSON input of docs/penalties.md §10.

The input comes from a file, or from standard input with `-`. Key rates, moratoria and caps
come from the database; the rate mode from the PENALTY_RATE_MODE setting unless the input
names its own "rate_mode". The breakdown is printed as JSON, amounts as strings with two
decimals. Input the command cannot use exits with status 2 and a Russian message on stderr.
"""

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.penalties import PenaltyLine, PenaltyResult, calculation_from_json
from billing.selectors import penalty_tables
from vodokanal.common.money import to_kopecks

BAD_INPUT = 2  # exit status when the input cannot be read or is refused


class JsonNumber:
    """A JSON float or constant (NaN, Infinity), kept as it was written.

    Amounts must be strings or integers (docs/penalties.md §10), so the engine refuses this
    value with its own message, which then shows the number exactly as in the input.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class Command(BaseCommand):
    help = (
        "Рассчитать пени по JSON-файлу (docs/penalties.md §10); «-» — читать со стандартного ввода."
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO(...)) in tests

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", help="JSON-файл с долгами и платежами или «-»")

    def handle(self, *args: Any, **options: Any) -> None:
        data = read_input(options["input"], options.get("stdin") or sys.stdin)
        tables = penalty_tables()
        if isinstance(data, dict):
            data = {"rate_mode": tables.rate_mode.value, **data}  # the input's own mode wins
        try:
            result = calculation_from_json(
                data, key_rates=tables.key_rates, moratoria=tables.moratoria, caps=tables.caps
            )
        except ValueError as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        self.stdout.write(json.dumps(result_as_json(result), ensure_ascii=False, indent=2))


def read_input(name: str, stdin: TextIO) -> object:
    """The parsed JSON of file `name` (or of `stdin` for "-"); floats become JsonNumber."""
    where = "на стандартном вводе" if name == "-" else f"в файле {name}"
    try:
        text = stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise CommandError(f"Файл не найден: {name}.", returncode=BAD_INPUT) from error
    except UnicodeDecodeError as error:
        raise CommandError(
            f"Входные данные {where} не в кодировке UTF-8.", returncode=BAD_INPUT
        ) from error
    except OSError as error:
        raise CommandError(
            f"Не удалось прочитать файл {name} ({error.strerror}).", returncode=BAD_INPUT
        ) from error
    try:
        return json.loads(text, parse_float=JsonNumber, parse_constant=JsonNumber)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"Неверный JSON {where}: строка {error.lineno}, столбец {error.colno}.",
            returncode=BAD_INPUT,
        ) from error


def result_as_json(result: PenaltyResult) -> dict[str, object]:
    """The output object: total, lines, and the note when the last known rate stood in."""
    output: dict[str, object] = {
        "total": _money(result.total),
        "lines": [_line_as_json(line) for line in result.lines],
    }
    if result.note:
        output["note"] = result.note
    return output


def _line_as_json(line: PenaltyLine) -> dict[str, object]:
    return {
        "period": f"{line.month:%Y-%m}",
        "from": line.date_from.isoformat(),
        "to": line.date_to.isoformat(),
        "days": line.days,
        "debt": _money(line.debt),
        "rate": _rate(line.rate),
        "fraction": f"1/{line.denominator}",
        "amount": _money(line.amount),
    }


def _money(amount: Decimal) -> str:
    """Two decimals: the engine's amounts are whole kopecks already, so nothing changes."""
    return str(to_kopecks(amount))


def _rate(rate: Decimal) -> str:
    """7.50 -> "7.5", 18.00 -> "18.0", 4.25 -> "4.25", as docs/penalties.md §10 prints rates."""
    text = f"{rate.normalize():f}"
    return text if "." in text else f"{text}.0"
