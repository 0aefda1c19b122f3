"""The seed legal data (docs/penalties.md §3, §4, §9) and the state-fee arithmetic over it."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest

from billing.legal_data import KEY_RATES, MORATORIA, RATE_CAPS
from debtors.court_fees import (
    ARBITRAZH_COURT_FEE_SCALE,
    GENERAL_COURT_FEE_SCALE,
    STATE_FEE_SCALES,
    court_order_fee,
    state_fee,
)
from vodokanal.common.money import to_whole_roubles


def test_key_rates_are_strictly_sorted_and_match_the_document_ends():
    dates = [valid_from for valid_from, _ in KEY_RATES]
    assert dates == sorted(set(dates))
    assert KEY_RATES[0] == (date(2016, 6, 14), Decimal("10.5"))
    assert KEY_RATES[-1] == (date(2025, 10, 27), Decimal("16.5"))
    assert len(KEY_RATES) == 48
    assert all(isinstance(rate, Decimal) and rate > 0 for _, rate in KEY_RATES)


def test_key_rates_hold_the_2022_spike():
    assert dict(KEY_RATES)[date(2022, 2, 28)] == Decimal("20.0")


def test_moratoria_and_cap_rows():
    covid, bankruptcy = MORATORIA
    assert (covid.date_from, covid.date_to, covid.months_ended_before) == (
        date(2020, 4, 6),
        date(2020, 12, 31),
        None,
    )
    assert (bankruptcy.date_from, bankruptcy.date_to, bankruptcy.months_ended_before) == (
        date(2022, 4, 1),
        date(2022, 10, 1),
        date(2022, 4, 1),
    )
    assert "№ 424" in covid.basis
    assert "№ 497" in bankruptcy.basis
    (cap,) = RATE_CAPS
    assert (cap.date_from, cap.date_to, cap.rate) == (
        date(2022, 2, 28),
        date(2024, 12, 31),
        Decimal("9.5"),
    )


@pytest.mark.parametrize(
    ("scale", "claim", "fee"),
    [
        (GENERAL_COURT_FEE_SCALE, "50000", "4000"),
        (GENERAL_COURT_FEE_SCALE, "100000", "4000"),
        (GENERAL_COURT_FEE_SCALE, "150000", "5500"),
        (GENERAL_COURT_FEE_SCALE, "400000", "12500"),
        (GENERAL_COURT_FEE_SCALE, "2000000", "35000"),
        (GENERAL_COURT_FEE_SCALE, "60000000", "229000"),
        (GENERAL_COURT_FEE_SCALE, "1000000000", "900000"),  # the maximum
        (ARBITRAZH_COURT_FEE_SCALE, "80000", "10000"),
        (ARBITRAZH_COURT_FEE_SCALE, "500000", "30000"),
        (ARBITRAZH_COURT_FEE_SCALE, "20000000", "425000"),
        (ARBITRAZH_COURT_FEE_SCALE, "5000000000", "10000000"),  # the maximum
    ],
)
def test_state_fee_examples(scale, claim, fee):
    assert state_fee(Decimal(claim), scale) == Decimal(fee)


@pytest.mark.parametrize("scale", STATE_FEE_SCALES.values(), ids=STATE_FEE_SCALES.keys())
def test_fee_scales_have_no_jumps_at_band_edges(scale):
    # Each band's formula at its upper edge equals the next band's formula there.
    for band, following in pairwise(scale):
        at_edge = band.base + (band.up_to - band.over) * band.percent / 100
        assert at_edge == following.base + (band.up_to - following.over) * following.percent / 100
    assert scale[-1].up_to is None


@pytest.mark.parametrize(
    ("claim", "fee"),
    [
        ("100016.00", "4000"),  # 4000.48: under 50 kopecks dropped
        ("100050.00", "4002"),  # 4001.50: 50 kopecks round up
        ("123457.00", "4704"),  # 4703.71
    ],
)
def test_state_fee_is_in_whole_roubles_half_up(claim, fee):
    assert state_fee(Decimal(claim), GENERAL_COURT_FEE_SCALE) == Decimal(fee)


def test_court_order_fee_is_half_of_the_claim_fee():
    assert court_order_fee(Decimal("50000"), GENERAL_COURT_FEE_SCALE) == Decimal("2000")
    assert court_order_fee(Decimal("150000"), GENERAL_COURT_FEE_SCALE) == Decimal("2750")
    # claim fee 4000.90 is paid as 4001; half of it, 2000.50, rounds up to 2001
    assert court_order_fee(Decimal("100030"), GENERAL_COURT_FEE_SCALE) == Decimal("2001")


def test_whole_roubles_round_half_up_not_to_even():
    assert to_whole_roubles(Decimal("2.50")) == Decimal("3")
    assert to_whole_roubles(Decimal("2.49")) == Decimal("2")


@pytest.mark.parametrize("claim", ["0", "-1"])
def test_state_fee_rejects_a_claim_that_is_not_positive(claim):
    with pytest.raises(ValueError, match="Цена иска"):
        state_fee(Decimal(claim), GENERAL_COURT_FEE_SCALE)
