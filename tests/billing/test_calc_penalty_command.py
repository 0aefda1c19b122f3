"""`manage.py calc_penalty` against the worked examples of docs/penalties.md §10 and own cases.

Every case runs through the command with the legal tables of the test database (seeded by
migration billing/0002). Expected lines are written in the text layout of docs/penalties.md §10
and compared field by field with the command's JSON output. Expected amounts of the own
cases are worked out by hand in the comments: debt × days × rate / 100 / denominator,
rounded half-up to kopecks.
"""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.billing.test_penalties import WORKED_EXAMPLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data")]

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The worked examples of docs/penalties.md §10, transcribed once for the engine's tests.

_LINE = re.compile(
    r"\s*(?P<period>\d{4}-\d{2}) (?P<from>\S+)\.\.(?P<to>\S+)\s+(?P<days>\d+)d"
    r"\s+debt\s+(?P<debt>\S+)\s+rate\s+(?P<rate>\S+)%\s+(?P<fraction>1/\d+)\s+=\s+(?P<amount>\S+)"
)


def expected(text: str) -> dict[str, object]:
    """A line in the layout of docs/penalties.md §10 as the command's JSON line."""
    match = _LINE.fullmatch(text)
    assert match, text
    line: dict[str, object] = match.groupdict()
    line["days"] = int(match["days"])
    return line


def run(tmp_path: Path, given: str | dict) -> dict:
    """Run the command on `given` written to a file; return its parsed JSON output."""
    path = tmp_path / "input.json"
    path.write_text(given if isinstance(given, str) else json.dumps(given), encoding="utf-8")
    out = io.StringIO()
    call_command("calc_penalty", str(path), stdout=out)
    return json.loads(out.getvalue())


def refused(tmp_path: Path, given: str | None) -> str:
    """Run the command on bad input (None: a missing file); return the error message."""
    path = tmp_path / "input.json"
    if given is not None:
        path.write_text(given, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("calc_penalty", str(path), stdout=io.StringIO())
    assert caught.value.returncode == 2
    return str(caught.value)


def check(output: dict, lines: list[str], total: str) -> None:
    assert output["lines"] == [expected(line) for line in lines]
    assert output["total"] == total


@pytest.mark.parametrize(("given", "lines", "total"), WORKED_EXAMPLES)
def test_worked_examples_of_penalties_md(tmp_path, given, lines, total):
    output = run(tmp_path, given)
    check(output, lines, total)
    assert "note" not in output


def test_output_layout(tmp_path):
    given = WORKED_EXAMPLES[0].values[0]
    output = run(tmp_path, given)
    assert list(output) == ["total", "lines"]
    assert output["lines"][0] == {
        "period": "2023-01",
        "from": "2023-03-13",
        "to": "2023-05-11",
        "days": 60,
        "debt": "10000.00",
        "rate": "7.5",
        "fraction": "1/300",
        "amount": "150.00",
    }


def test_input_from_stdin():
    out = io.StringIO()
    given = WORKED_EXAMPLES[0].values[0]
    call_command("calc_penalty", "-", stdin=io.StringIO(given), stdout=out)
    assert json.loads(out.getvalue())["total"] == "438.46"


# --- Own cases. Due dates are the 10th of the next month; key rate 7.5 % from 19.09.2022
# to 23.07.2023, 4.25 % from 27.07.2020 to 21.03.2021 (docs/penalties.md §3).

TWO_MONTHS = [
    {"period": "2023-01", "amount": "1000.00"},
    {"period": "2023-02", "amount": "1000.00"},
]


def test_payment_goes_to_the_oldest_month(tmp_path):
    # 1000.00 paid on 01.03.2023 pays January in full before its day 31 (13.03.2023).
    # February, due 10.03.2023: day 31 = 10.04.2023; to 30.04.2023 = 21 days.
    # 1000.00 × 21 × 7.5 / 100 / 300 = 5.25
    given = {
        "debtor": "individual",
        "as_of": "2023-04-30",
        "debts": TWO_MONTHS,
        "payments": [{"date": "2023-03-01", "amount": "1000.00"}],
    }
    check(
        run(tmp_path, given),
        ["2023-02 2023-04-10..2023-04-30 21d debt 1000.00 rate 7.5% 1/300 = 5.25"],
        "5.25",
    )


def test_payment_naming_a_month_goes_there(tmp_path):
    # The same payment names February, so January stays unpaid.
    # January, due 10.02.2023: day 31 = 13.03.2023; to 30.04.2023 = 19 + 30 = 49 days.
    # 1000.00 × 49 × 7.5 / 100 / 300 = 12.25
    given = {
        "debtor": "individual",
        "as_of": "2023-04-30",
        "debts": TWO_MONTHS,
        "payments": [{"date": "2023-03-01", "amount": "1000.00", "period": "2023-02"}],
    }
    check(
        run(tmp_path, given),
        ["2023-01 2023-03-13..2023-04-30 49d debt 1000.00 rate 7.5% 1/300 = 12.25"],
        "12.25",
    )


def test_partial_payment_lowers_the_debt_from_the_next_day(tmp_path):
    # January 10000.00, due 10.02.2023, day 31 = 13.03.2023. 4000.00 paid on 12.04.2023:
    # the day of payment still carries the full debt.
    # 13.03–12.04.2023 = 19 + 12 = 31 days: 10000.00 × 31 × 7.5 / 100 / 300 = 77.50
    # 13.04–30.04.2023 = 18 days:            6000.00 × 18 × 7.5 / 100 / 300 = 27.00
    given = {
        "debtor": "individual",
        "as_of": "2023-04-30",
        "debts": [{"period": "2023-01", "amount": "10000.00"}],
        "payments": [{"date": "2023-04-12", "amount": "4000.00"}],
    }
    check(
        run(tmp_path, given),
        [
            "2023-01 2023-03-13..2023-04-12 31d debt 10000.00 rate 7.5% 1/300 = 77.50",
            "2023-01 2023-04-13..2023-04-30 18d debt 6000.00 rate 7.5% 1/300 = 27.00",
        ],
        "104.50",
    )


def test_2020_moratorium_for_a_legal_entity(tmp_path):
    # February 2020, due 10.03.2020, 1/130 from day 1; no penalty 06.04–31.12.2020.
    # Unpaid: the rate of 31.01.2021, 4.25 %.
    # 11.03–05.04.2020 = 21 + 5 = 26 days: 10000.00 × 26 × 4.25 / 100 / 130 = 85.00
    # 01.01–31.01.2021 = 31 days: 10000.00 × 31 × 4.25 / 100 / 130 = 101.346… = 101.35
    given = {
        "debtor": "legal",
        "as_of": "2021-01-31",
        "debts": [{"period": "2020-02", "amount": "10000.00"}],
    }
    check(
        run(tmp_path, given),
        [
            "2020-02 2020-03-11..2020-04-05 26d debt 10000.00 rate 4.25% 1/130 = 85.00",
            "2020-02 2021-01-01..2021-01-31 31d debt 10000.00 rate 4.25% 1/130 = 101.35",
        ],
        "186.35",
    )


def test_2022_moratorium_freezes_only_months_ended_before_april(tmp_path):
    # Legal entity, unpaid, the rate of 31.10.2022: 7.5 % (under the 9.5 % cap).
    # March 2022 (ended before 01.04.2022), due 10.04.2022: frozen 01.04–01.10.2022, so
    #   02.10–31.10.2022 = 30 days: 1000.00 × 30 × 7.5 / 100 / 130 = 17.307… = 17.31
    # April 2022, due 10.05.2022, not frozen:
    #   11.05–31.10.2022 = 21 + 30 + 31 + 31 + 30 + 31 = 174 days:
    #   1000.00 × 174 × 7.5 / 100 / 130 = 100.384… = 100.38
    given = {
        "debtor": "legal",
        "as_of": "2022-10-31",
        "debts": [
            {"period": "2022-03", "amount": "1000.00"},
            {"period": "2022-04", "amount": "1000.00"},
        ],
    }
    check(
        run(tmp_path, given),
        [
            "2022-03 2022-10-02..2022-10-31 30d debt 1000.00 rate 7.5% 1/130 = 17.31",
            "2022-04 2022-05-11..2022-10-31 174d debt 1000.00 rate 7.5% 1/130 = 100.38",
        ],
        "117.69",
    )


# Legal entity, April 2025, due 10.05.2025; key rate 21 % to 08.06.2025, 20 % from 09.06.
APRIL_2025 = {
    "debtor": "legal",
    "as_of": "2025-06-15",
    "debts": [{"period": "2025-04", "amount": "100000.00"}],
}
# per_day: 11.05–08.06.2025 = 21 + 8 = 29 days: 100000.00 × 29 × 21 / 100 / 130 = 4684.615… = 4684.62
#          09.06–15.06.2025 = 7 days:           100000.00 × 7 × 20 / 100 / 130 = 1076.923… = 1076.92
PER_DAY_LINES = [
    "2025-04 2025-05-11..2025-06-08 29d debt 100000.00 rate 21.0% 1/130 = 4684.62",
    "2025-04 2025-06-09..2025-06-15 7d debt 100000.00 rate 20.0% 1/130 = 1076.92",
]
# payment_day: unpaid, the rate of 15.06.2025 for all 36 days:
#          100000.00 × 36 × 20 / 100 / 130 = 5538.461… = 5538.46
PAYMENT_DAY_LINES = ["2025-04 2025-05-11..2025-06-15 36d debt 100000.00 rate 20.0% 1/130 = 5538.46"]


def test_key_rate_change_in_per_day_mode(tmp_path):
    check(run(tmp_path, {**APRIL_2025, "rate_mode": "per_day"}), PER_DAY_LINES, "5761.54")


def test_rate_mode_comes_from_the_setting(tmp_path, settings):
    check(run(tmp_path, APRIL_2025), PAYMENT_DAY_LINES, "5538.46")
    settings.PENALTY_RATE_MODE = "per_day"
    check(run(tmp_path, APRIL_2025), PER_DAY_LINES, "5761.54")


def test_rate_mode_of_the_input_overrides_the_setting(tmp_path, settings):
    settings.PENALTY_RATE_MODE = "per_day"
    given = {**APRIL_2025, "rate_mode": "payment_day"}
    check(run(tmp_path, given), PAYMENT_DAY_LINES, "5538.46")


# Individual, January 2023, 10000.00, due 10.02.2023: day 30 = 12.03.2023, day 31 =
# 13.03.2023, day 90 = 11.05.2023, day 91 = 12.05.2023.
# 1 day at 1/300: 10000.00 × 1 × 7.5 / 100 / 300 = 2.50
# 60 days at 1/300 (13.03–11.05 = 19 + 30 + 11): 10000.00 × 60 × 7.5 / 100 / 300 = 150.00
# 1 day at 1/130: 10000.00 × 1 × 7.5 / 100 / 130 = 5.769… = 5.77
@pytest.mark.parametrize(
    ("as_of", "lines", "total"),
    [
        pytest.param("2023-03-12", [], "0.00", id="day-30-free"),
        pytest.param(
            "2023-03-13",
            ["2023-01 2023-03-13..2023-03-13 1d debt 10000.00 rate 7.5% 1/300 = 2.50"],
            "2.50",
            id="day-31-at-1/300",
        ),
        pytest.param(
            "2023-05-11",
            ["2023-01 2023-03-13..2023-05-11 60d debt 10000.00 rate 7.5% 1/300 = 150.00"],
            "150.00",
            id="day-90-at-1/300",
        ),
        pytest.param(
            "2023-05-12",
            [
                "2023-01 2023-03-13..2023-05-11 60d debt 10000.00 rate 7.5% 1/300 = 150.00",
                "2023-01 2023-05-12..2023-05-12 1d debt 10000.00 rate 7.5% 1/130 = 5.77",
            ],
            "155.77",
            id="day-91-at-1/130",
        ),
    ],
)
def test_thresholds_on_days_31_and_91(tmp_path, as_of, lines, total):
    given = {
        "debtor": "individual",
        "as_of": as_of,
        "debts": [{"period": "2023-01", "amount": "10000.00"}],
    }
    check(run(tmp_path, given), lines, total)


@pytest.mark.parametrize(
    ("as_of", "lines", "total"),
    [
        pytest.param("2023-02-10", [], "0.00", id="due-day"),
        # 10000.00 × 1 × 7.5 / 100 / 130 = 5.769… = 5.77
        pytest.param(
            "2023-02-11",
            ["2023-01 2023-02-11..2023-02-11 1d debt 10000.00 rate 7.5% 1/130 = 5.77"],
            "5.77",
            id="day-1-at-1/130",
        ),
    ],
)
def test_legal_entity_pays_from_day_1(tmp_path, as_of, lines, total):
    given = {
        "debtor": "legal",
        "as_of": as_of,
        "debts": [{"period": "2023-01", "amount": "10000.00"}],
    }
    check(run(tmp_path, given), lines, total)


def test_calculation_date_after_the_last_known_key_rate_has_a_note(tmp_path):
    # The seeded table ends with 16.5 % from 27.10.2025. September 2025, due 10.10.2025:
    # day 31 = 10.11.2025; to 31.12.2025 (day 82) = 21 + 31 = 52 days at 1/300:
    # 3000.00 × 52 × 16.5 / 100 / 300 = 85.80
    given = {
        "debtor": "individual",
        "as_of": "2025-12-31",
        "debts": [{"period": "2025-09", "amount": "3000.00"}],
    }
    output = run(tmp_path, given)
    check(
        output,
        ["2025-09 2025-11-10..2025-12-31 52d debt 3000.00 rate 16.5% 1/300 = 85.80"],
        "85.80",
    )
    assert output["note"] == (
        "Ключевая ставка после 27.10.2025 неизвестна: применена последняя известная ставка 16,5 %."
    )


# --- Bad input: exit status 2 and a Russian message.


def test_invalid_json_is_refused(tmp_path):
    message = refused(tmp_path, '{"debtor": "individual",')
    assert message.startswith("Неверный JSON в файле ")
    assert "строка 1, столбец 25" in message


def test_float_amount_is_refused(tmp_path):
    given = '{"debtor": "individual", "as_of": "2023-06-30", "debts": [{"period": "2023-01", "amount": 1500.10}]}'
    message = refused(tmp_path, given)
    assert message == 'Долг № 1: сумма: 1500.10 — ожидается сумма строкой, например "1500.00".'


def test_unknown_debtor_is_refused(tmp_path):
    given = '{"debtor": "pensioner", "as_of": "2023-06-30", "debts": [{"period": "2023-01", "amount": "1.00"}]}'
    message = refused(tmp_path, given)
    assert message.startswith("Категория должника (debtor): неизвестное значение 'pensioner'")
    assert message.endswith("допустимо: individual, housing_coop, managing_org, legal.")


@pytest.mark.parametrize(
    ("debtor", "fractions"),
    [
        ("individual", ["1/300", "1/130"]),
        ("housing_coop", ["1/300", "1/130"]),
        ("managing_org", ["1/300", "1/170", "1/130"]),
        ("legal", ["1/130"]),
    ],
)
def test_each_of_the_four_debtor_categories_is_calculated(tmp_path, debtor, fractions):
    given = json.dumps(
        {
            "debtor": debtor,
            "as_of": "2023-06-30",
            "debts": [{"period": "2023-01", "amount": "10000.00"}],
        }
    )
    output = run(tmp_path, given)
    assert [line["fraction"] for line in output["lines"]] == fractions
    assert output["lines"][0]["from"] == (
        "2023-03-13" if debtor in ("individual", "housing_coop") else "2023-02-11"
    )


def test_missing_file_is_refused(tmp_path):
    message = refused(tmp_path, None)
    assert message == f"Файл не найден: {tmp_path / 'input.json'}."


def test_bad_input_exits_with_status_2_and_a_russian_message_on_stderr():
    # A real process: the exit status and stderr as a shell script sees them.
    result = subprocess.run(
        [sys.executable, "manage.py", "calc_penalty", "-"],
        input="[1, 2",
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "vodokanal.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Неверный JSON на стандартном вводе: строка 1, столбец 6." in result.stderr
