"""The penalty engine against the worked examples of docs/penalties.md §10, and its edge rules."""

import json
from datetime import date
from decimal import Decimal

import pytest

from billing.legal_data import KEY_RATES, MORATORIA, RATE_CAPS
from billing.penalties import (
    Debt,
    DebtorCategory,
    calculate_penalty,
    calculation_from_json,
    default_due_on,
    format_lines,
)

# Copied verbatim from docs/penalties.md §10 (E9 as corrected in December 2026): input, expected
# lines, expected total.
WORKED_EXAMPLES = [
    pytest.param(
        '{"debtor": "individual", "as_of": "2023-06-30", "debts": [{"period": "2023-01", "amount": "10000.00"}]}',
        [
            "  2023-01 2023-03-13..2023-05-11   60d  debt   10000.00  rate   7.5%  1/300  = 150.00",
            "  2023-01 2023-05-12..2023-06-30   50d  debt   10000.00  rate   7.5%  1/130  = 288.46",
        ],
        "438.46",
        id="E1-individual-unpaid-both-thresholds",
    ),
    pytest.param(
        '{"debtor": "individual", "as_of": "2023-06-30", "debts": [{"period": "2023-01", "amount": "10000.00"}], "payments": [{"date": "2023-03-12", "amount": "10000.00"}]}',
        [],
        "0.00",
        id="E2-paid-on-day-30",
    ),
    pytest.param(
        '{"debtor": "individual", "as_of": "2023-06-30", "debts": [{"period": "2023-01", "amount": "10000.00"}], "payments": [{"date": "2023-03-13", "amount": "10000.00"}]}',
        [
            "  2023-01 2023-03-13..2023-03-13    1d  debt   10000.00  rate   7.5%  1/300  = 2.50",
        ],
        "2.50",
        id="E3-paid-on-day-31",
    ),
    pytest.param(
        '{"debtor": "legal", "as_of": "2025-08-01", "debts": [{"period": "2025-05", "amount": "250000.00"}]}',
        [
            "  2025-05 2025-06-11..2025-08-01   52d  debt  250000.00  rate  18.0%  1/130  = 18000.00",
        ],
        "18000.00",
        id="E4-legal-from-day-1",
    ),
    pytest.param(
        '{"debtor": "individual", "as_of": "2025-03-01", "debts": [{"period": "2024-10", "amount": "1500.00"}, {"period": "2024-11", "amount": "1600.00"}], "payments": [{"date": "2025-01-20", "amount": "2000.00"}]}',
        [
            "  2024-10 2024-12-11..2024-12-31   21d  debt    1500.00  rate   9.5%  1/300  = 9.98",
            "  2024-10 2025-01-01..2025-01-20   20d  debt    1500.00  rate  21.0%  1/300  = 21.00",
            "  2024-11 2025-01-10..2025-01-20   11d  debt    1600.00  rate  21.0%  1/300  = 12.32",
            "  2024-11 2025-01-21..2025-03-01   40d  debt    1100.00  rate  21.0%  1/300  = 30.80",
        ],
        "74.10",
        id="E5-partial-payment-across-cap-end",
    ),
    pytest.param(
        '{"debtor": "individual", "as_of": "2021-03-01", "debts": [{"period": "2019-12", "amount": "3000.00"}]}',
        [
            "  2019-12 2020-02-10..2020-04-05   56d  debt    3000.00  rate  4.25%  1/300  = 23.80",
            "  2019-12 2021-01-01..2021-03-01   60d  debt    3000.00  rate  4.25%  1/130  = 58.85",
        ],
        "82.65",
        id="E6-2020-moratorium",
    ),
    pytest.param(
        '{"debtor": "legal", "as_of": "2022-12-31", "debts": [{"period": "2022-01", "amount": "50000.00"}]}',
        [
            "  2022-01 2022-02-11..2022-03-31   49d  debt   50000.00  rate   7.5%  1/130  = 1413.46",
            "  2022-01 2022-10-02..2022-12-31   91d  debt   50000.00  rate   7.5%  1/130  = 2625.00",
        ],
        "4038.46",
        id="E7-2022-moratorium-and-cap",
    ),
    pytest.param(
        '{"debtor": "individual", "as_of": "2024-12-31", "rate_mode": "per_day", "debts": [{"period": "2023-05", "amount": "8000.00"}]}',
        [
            "  2023-05 2023-07-11..2023-07-23   13d  debt    8000.00  rate   7.5%  1/300  = 26.00",
            "  2023-05 2023-07-24..2023-08-14   22d  debt    8000.00  rate   8.5%  1/300  = 49.87",
            "  2023-05 2023-08-15..2023-09-08   25d  debt    8000.00  rate   9.5%  1/300  = 63.33",
            "  2023-05 2023-09-09..2024-12-31  480d  debt    8000.00  rate   9.5%  1/130  = 2806.15",
        ],
        "2945.35",
        id="E8-per-day-rate-mode",
    ),
    pytest.param(
        '{"debtor": "managing_org", "as_of": "2025-10-01", "debts": [{"period": "2025-03", "amount": "120000.00"}, {"period": "2025-04", "amount": "118000.00"}], "payments": [{"date": "2025-06-05", "amount": "118000.00", "period": "2025-04"}]}',
        [
            "  2025-03 2025-04-11..2025-06-09   60d  debt  120000.00  rate  17.0%  1/300  = 4080.00",
            "  2025-03 2025-06-10..2025-07-09   30d  debt  120000.00  rate  17.0%  1/170  = 3600.00",
            "  2025-03 2025-07-10..2025-10-01   84d  debt  120000.00  rate  17.0%  1/130  = 13181.54",
            "  2025-04 2025-05-11..2025-06-05   26d  debt  118000.00  rate  21.0%  1/300  = 2147.60",
        ],
        "23009.14",
        id="E9-payment-naming-a-month",
    ),
]


def calculate(data: dict, *, moratoria=MORATORIA):
    return calculation_from_json(data, key_rates=KEY_RATES, moratoria=moratoria, caps=RATE_CAPS)


@pytest.mark.parametrize(("given", "lines", "total"), WORKED_EXAMPLES)
def test_worked_examples_of_penalties_md(given, lines, total):
    result = calculate(json.loads(given))
    assert format_lines(result) == lines
    assert result.total == Decimal(total)
    assert f"total: {result.total}" == f"total: {total}"
    assert not result.uses_last_known_rate


def test_per_day_and_payment_day_modes_differ_across_rate_changes():
    # March 2025, unpaid: day 31 is 11.05.2025; rates 21 % to 08.06, 20 % from 09.06,
    # 18 % from 28.07; day 91 is 10.07.2025. No cap after 2024.
    given = {"debtor": "individual", "as_of": "2025-08-01"}
    given["debts"] = [{"period": "2025-03", "amount": "10000.00"}]

    per_day = calculate({**given, "rate_mode": "per_day"})
    payment_day = calculate(given)

    assert format_lines(per_day) == [
        "  2025-03 2025-05-11..2025-06-08   29d  debt   10000.00  rate  21.0%  1/300  = 203.00",
        "  2025-03 2025-06-09..2025-07-09   31d  debt   10000.00  rate  20.0%  1/300  = 206.67",
        "  2025-03 2025-07-10..2025-07-27   18d  debt   10000.00  rate  20.0%  1/130  = 276.92",
        "  2025-03 2025-07-28..2025-08-01    5d  debt   10000.00  rate  18.0%  1/130  = 69.23",
    ]
    assert per_day.total == Decimal("755.82")
    assert format_lines(payment_day) == [
        "  2025-03 2025-05-11..2025-07-09   60d  debt   10000.00  rate  18.0%  1/300  = 360.00",
        "  2025-03 2025-07-10..2025-08-01   23d  debt   10000.00  rate  18.0%  1/130  = 318.46",
    ]
    assert payment_day.total == Decimal("678.46")


def test_day_of_a_partial_payment_still_carries_the_debt_before_it():
    # Day 31 is 13.03.2023; 4 000 paid on 22.03 (day 40): 22.03 is counted on 10 000.
    result = calculate(
        {
            "debtor": "individual",
            "as_of": "2023-03-31",
            "debts": [{"period": "2023-01", "amount": "10000.00"}],
            "payments": [{"date": "2023-03-22", "amount": "4000.00"}],
        }
    )
    assert format_lines(result) == [
        "  2023-01 2023-03-13..2023-03-22   10d  debt   10000.00  rate   7.5%  1/300  = 25.00",
        "  2023-01 2023-03-23..2023-03-31    9d  debt    6000.00  rate   7.5%  1/300  = 13.50",
    ]
    assert result.total == Decimal("38.50")


def test_overpayment_of_a_named_month_is_credit_for_the_next_month():
    # 12 000 for January (10 000) before its due date: 2 000 of credit pays February,
    # which keeps 3 000 unpaid from its day 31 (10.04.2023).
    result = calculate(
        {
            "debtor": "individual",
            "as_of": "2023-05-31",
            "debts": [
                {"period": "2023-01", "amount": "10000.00"},
                {"period": "2023-02", "amount": "5000.00"},
            ],
            "payments": [{"date": "2023-02-05", "amount": "12000.00", "period": "2023-01"}],
        }
    )
    assert format_lines(result) == [
        "  2023-02 2023-04-10..2023-05-31   52d  debt    3000.00  rate   7.5%  1/300  = 39.00",
    ]
    assert result.total == Decimal("39.00")


def test_what_exceeds_the_named_month_pays_the_oldest_unpaid_month():
    """docs/penalties.md §6: a payment naming March pays March; its excess pays January, the
    oldest unpaid month, before February."""
    from billing.penalties import Payment, allocate_payments

    months = [date(2025, month, 1) for month in (1, 2, 3)]
    debts = [Debt(month, Decimal("1000.00"), default_due_on(month)) for month in months]
    payment = Payment(date(2025, 4, 5), Decimal("1500.00"), date(2025, 3, 1))

    applied = allocate_payments(debts, [payment])

    assert {month: sum(p.amount for p in parts) for month, parts in applied.items()} == {
        date(2025, 1, 1): Decimal("500.00"),
        date(2025, 2, 1): 0,
        date(2025, 3, 1): Decimal("1000.00"),
    }


def test_payment_before_the_due_date_means_no_penalty():
    result = calculate(
        {
            "debtor": "legal",
            "as_of": "2023-06-30",
            "debts": [{"period": "2023-01", "amount": "10000.00"}],
            "payments": [{"date": "2023-02-10", "amount": "10000.00"}],
        }
    )
    assert result.lines == ()
    assert result.total == Decimal("0.00")


def test_calculation_after_the_last_known_rate_says_so():
    last_from, last_rate = KEY_RATES[-1]
    given = {"debtor": "legal", "debts": [{"period": "2025-10", "amount": "1000.00"}]}

    on_last_decision = calculate({**given, "as_of": last_from.isoformat()})
    after = calculate({**given, "as_of": "2025-12-01"})

    assert not on_last_decision.uses_last_known_rate
    assert on_last_decision.note == ""
    assert after.uses_last_known_rate
    assert "последняя известная ставка 16,5 %" in after.note
    assert last_rate == Decimal("16.5")
    # due 10.11.2025, 11.11..01.12 = 21 days at the last rate: 1000 * 21 * 16.5 / 13000
    assert format_lines(after) == [
        "  2025-10 2025-11-11..2025-12-01   21d  debt    1000.00  rate  16.5%  1/130  = 26.65",
    ]


MARCH_AND_APRIL_2022 = {
    "debtor": "legal",
    "as_of": "2022-06-30",
    "debts": [
        {"period": "2022-03", "amount": "10000.00"},
        {"period": "2022-04", "amount": "10000.00"},
    ],
}


def test_2022_moratorium_spares_only_months_ended_before_april_2022():
    result = calculate(MARCH_AND_APRIL_2022)
    # March (due 10.04.2022) is frozen to 01.10.2022; April (due 10.05.2022) accrues.
    assert format_lines(result) == [
        "  2022-04 2022-05-11..2022-06-30   51d  debt   10000.00  rate   9.5%  1/130  = 372.69",
    ]


def test_2022_moratorium_can_be_switched_off():
    without_2022 = [row for row in MORATORIA if row.date_from.year != 2022]
    assert len(without_2022) == len(MORATORIA) - 1

    result = calculate(MARCH_AND_APRIL_2022, moratoria=without_2022)

    assert format_lines(result) == [
        "  2022-03 2022-04-11..2022-06-30   81d  debt   10000.00  rate   9.5%  1/130  = 591.92",
        "  2022-04 2022-05-11..2022-06-30   51d  debt   10000.00  rate   9.5%  1/130  = 372.69",
    ]
    assert result.total == Decimal("964.61")


def test_legal_entity_pays_from_day_1_and_individual_not():
    given = {"as_of": "2023-02-11", "debts": [{"period": "2023-01", "amount": "13000.00"}]}

    legal = calculate({**given, "debtor": DebtorCategory.LEGAL.value})
    individual = calculate({**given, "debtor": DebtorCategory.INDIVIDUAL.value})

    assert format_lines(legal) == [
        "  2023-01 2023-02-11..2023-02-11    1d  debt   13000.00  rate   7.5%  1/130  = 7.50",
    ]
    assert individual.total == Decimal("0.00")
    assert individual.lines == ()


def test_each_line_is_rounded_and_the_total_is_their_sum():
    result = calculate(json.loads(WORKED_EXAMPLES[4].values[0]))  # E5
    assert [line.amount for line in result.lines] == [
        Decimal("9.98"),  # 9.975 rounds half up
        Decimal("21.00"),
        Decimal("12.32"),
        Decimal("30.80"),
    ]
    assert result.total == sum(line.amount for line in result.lines)
    assert {line.denominator for line in result.lines} == {300}


VALID = {
    "debtor": "individual",
    "as_of": "2023-06-30",
    "debts": [{"period": "2023-01", "amount": "1.00"}],
}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param([], "ожидается объект JSON", id="not-an-object"),
        pytest.param({**VALID, "debtor": "person"}, "Категория должника", id="debtor"),
        pytest.param(
            {**VALID, "as_of": "30.06.2023"}, "Дата расчёта.*ГГГГ-ММ-ДД", id="as_of-format"
        ),
        pytest.param(
            {**VALID, "as_of": "2023-02-30"}, "Дата расчёта.*ГГГГ-ММ-ДД", id="as_of-no-such-day"
        ),
        pytest.param({**VALID, "rate_mode": "daily"}, "Режим ставки", id="rate_mode"),
        pytest.param({**VALID, "debts": []}, "непустой список долгов", id="no-debts"),
        pytest.param(
            {**VALID, "debts": [{"period": "2023-13", "amount": "1.00"}]},
            "Долг № 1: период.*ГГГГ-ММ",
            id="period",
        ),
        pytest.param(
            {**VALID, "debts": [{"period": "2023-01", "amount": 1.5}]},
            "ожидается сумма строкой",
            id="float-amount",
        ),
        pytest.param(
            {**VALID, "debts": [{"period": "2023-01", "amount": "-5.00"}]},
            "должна быть положительным числом",
            id="negative-amount",
        ),
        pytest.param(
            {**VALID, "debts": [{"period": "2023-01", "amount": "1.005"}]},
            "с точностью до копейки",
            id="fraction-of-kopeck",
        ),
        pytest.param({**VALID, "debts": VALID["debts"] * 2}, "указан дважды", id="duplicate-month"),
        pytest.param(
            {**VALID, "payments": [{"date": "2023-07-01", "amount": "1.00"}]},
            "позже даты расчёта",
            id="payment-after-as_of",
        ),
        pytest.param(
            {**VALID, "payments": [{"date": "2023-03-01", "amount": "0"}]},
            "Сумма платежа от 01.03.2023 должна быть положительным числом",
            id="zero-payment",
        ),
        pytest.param(
            {**VALID, "payments": [{"date": "2023-03-01", "amount": "сто"}]},
            "Платёж № 1: сумма: 'сто' — ожидается сумма строкой",
            id="payment-amount-not-a-number",
        ),
        pytest.param({**VALID, "rate_mod": "per_day"}, "неизвестные поля: rate_mod", id="typo"),
        pytest.param(
            {**VALID, "as_of": "2015-01-01", "debts": [{"period": "2014-10", "amount": "1.00"}]},
            "Нет ключевой ставки",
            id="before-the-rate-table",
        ),
    ],
)
def test_invalid_input_is_rejected_with_a_russian_message(given, message):
    with pytest.raises(ValueError, match=message):
        calculate(given)


def test_a_month_paid_in_time_needs_no_key_rate():
    # A month paid in full in time needs no rate at all, even if older than the table.
    result = calculate(
        {
            "debtor": "individual",
            "as_of": "2016-07-01",
            "debts": [{"period": "2015-01", "amount": "100.00"}],
            "payments": [{"date": "2015-02-01", "amount": "100.00"}],
        }
    )
    assert result.total == Decimal("0.00")
    assert result.lines == ()


def test_a_debt_carries_its_own_due_date():
    result = calculate(
        {
            "debtor": "legal",
            "as_of": "2023-02-20",
            "debts": [{"period": "2023-01", "amount": "13000.00", "due_on": "2023-02-15"}],
        }
    )
    assert format_lines(result) == [
        "  2023-01 2023-02-16..2023-02-20    5d  debt   13000.00  rate   7.5%  1/130  = 37.50",
    ]
    assert date(2023, 2, 16) == result.lines[0].date_from


def test_engine_takes_plain_dataclasses_and_due_date_defaults_to_the_10th():
    january = date(2023, 1, 1)
    assert default_due_on(january) == date(2023, 2, 10)
    assert default_due_on(date(2023, 12, 1)) == date(2024, 1, 10)

    result = calculate_penalty(
        debts=[Debt(january, Decimal("10000"), default_due_on(january))],
        category=DebtorCategory.INDIVIDUAL,
        as_of=date(2023, 6, 30),
        key_rates=KEY_RATES,
    )

    assert result.total == Decimal("438.46")  # E1 again, without moratoria or caps passed
    assert result.lines[0].debt == Decimal("10000.00")


# The fraction on the last day of delay when the debt is paid in full that day: the four
# debtor categories of docs/penalties.md §2 at every band edge.
BANDS = {
    DebtorCategory.INDIVIDUAL: {1: None, 30: None, 31: 300, 60: 300, 61: 300, 90: 300, 91: 130},
    DebtorCategory.HOUSING_COOP: {1: None, 30: None, 31: 300, 60: 300, 61: 300, 90: 300, 91: 130},
    DebtorCategory.MANAGING_ORG: {1: 300, 30: 300, 31: 300, 60: 300, 61: 170, 90: 170, 91: 130},
    DebtorCategory.LEGAL: {1: 130, 30: 130, 31: 130, 60: 130, 61: 130, 90: 130, 91: 130},
}


@pytest.mark.parametrize(
    ("category", "day", "denominator"),
    [
        pytest.param(category, day, denominator, id=f"{category}-day-{day}")
        for category, days in BANDS.items()
        for day, denominator in days.items()
    ],
)
def test_each_category_pays_its_fraction_on_each_day_of_delay(category, day, denominator):
    due_on = date(2025, 2, 10)  # January 2025's charge
    paid_on = date.fromordinal(due_on.toordinal() + day)
    result = calculate(
        {
            "debtor": category.value,
            "as_of": "2025-12-31",
            "debts": [{"period": "2025-01", "amount": "10000.00"}],
            "payments": [{"date": paid_on.isoformat(), "amount": "10000.00"}],
        }
    )
    if denominator is None:
        assert result.lines == ()
        return
    last = result.lines[-1]
    assert (last.date_to, last.denominator) == (paid_on, denominator)
    # Every day of delay from the first that bears a penalty is in exactly one line.
    first = 31 if category.free_days else 1
    assert sum(line.days for line in result.lines) == day - first + 1


@pytest.mark.parametrize("category", list(DebtorCategory))
@pytest.mark.parametrize(
    ("period", "as_of", "frozen_from", "frozen_to"),
    [
        ("2019-12", "2021-03-01", date(2020, 4, 6), date(2020, 12, 31)),
        ("2022-01", "2022-12-31", date(2022, 4, 1), date(2022, 10, 1)),
    ],
    ids=["2020-moratorium", "2022-moratorium"],
)
def test_no_category_accrues_during_a_moratorium(category, period, as_of, frozen_from, frozen_to):
    result = calculate(
        {
            "debtor": category.value,
            "as_of": as_of,
            "debts": [{"period": period, "amount": "10000.00"}],
        }
    )
    assert result.total > 0
    assert all(line.date_to < frozen_from or line.date_from > frozen_to for line in result.lines), (
        format_lines(result)
    )
    # The bands keep counting through the moratorium: after it, the debt is past day 91.
    assert result.lines[-1].denominator == 130
