"""State court fees (госпошлина) of the claims and court-order applications debtors files
(docs/penalties.md §9): a scale of bands (debtors.models.StateFeeBand, read by
debtors.selectors.fee_scale) and the fee of a claim in whole roubles."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from vodokanal.common.money import ZERO, to_whole_roubles


@dataclass(frozen=True)
class FeeBand:
    """One row of a state-fee scale (НК РФ ст. 333.19, 333.21).

    For a claim up to `up_to` roubles inclusive (None: no upper bound) the fee is
    `base` + `percent` % of the part of the claim over `over`, kept within min/max.
    """

    up_to: Decimal | None
    base: Decimal
    percent: Decimal = ZERO
    over: Decimal = ZERO
    min_fee: Decimal | None = None
    max_fee: Decimal | None = None


def _exact_fee(claim: Decimal, scale: Sequence[FeeBand]) -> Decimal:
    if not isinstance(claim, Decimal) or claim <= ZERO:
        raise ValueError("Цена иска должна быть положительной суммой.")
    for band in sorted(scale, key=lambda band: (band.up_to is None, band.up_to or ZERO)):
        if band.up_to is None or claim <= band.up_to:
            fee = band.base + (claim - band.over) * band.percent / 100
            if band.min_fee is not None:
                fee = max(fee, band.min_fee)
            if band.max_fee is not None:
                fee = min(fee, band.max_fee)
            return fee
    raise ValueError(f"Цена иска {claim} выходит за шкалу госпошлины.")


def state_fee(claim: Decimal, scale: Sequence[FeeBand]) -> Decimal:
    """State fee for a property claim of `claim` roubles, in whole roubles (docs/penalties.md §9)."""
    return to_whole_roubles(_exact_fee(claim, scale))


def court_order_fee(claim: Decimal, scale: Sequence[FeeBand]) -> Decimal:
    """Fee for an application for a court order: 50 % of the claim fee (НК РФ ст. 333.19
    п. 1 пп. 2; ст. 333.21 for arbitrazh). Half of the claim fee as it is paid (whole
    roubles), then rounded to whole roubles again."""
    return to_whole_roubles(state_fee(claim, scale) / 2)


# State fee for a property claim, general courts and magistrates: НК РФ ст. 333.19 п. 1
# пп. 1 as amended in 2024. A court order costs half of it (пп. 2).
GENERAL_COURT_FEE_SCALE: list[FeeBand] = [
    FeeBand(up_to=Decimal("100000"), base=Decimal("4000")),
    FeeBand(Decimal("300000"), Decimal("4000"), Decimal("3"), Decimal("100000")),
    FeeBand(Decimal("500000"), Decimal("10000"), Decimal("2.5"), Decimal("300000")),
    FeeBand(Decimal("1000000"), Decimal("15000"), Decimal("2"), Decimal("500000")),
    FeeBand(Decimal("3000000"), Decimal("25000"), Decimal("1"), Decimal("1000000")),
    FeeBand(Decimal("8000000"), Decimal("45000"), Decimal("0.7"), Decimal("3000000")),
    FeeBand(Decimal("24000000"), Decimal("80000"), Decimal("0.35"), Decimal("8000000")),
    FeeBand(Decimal("50000000"), Decimal("136000"), Decimal("0.3"), Decimal("24000000")),
    FeeBand(
        None, Decimal("214000"), Decimal("0.15"), Decimal("50000000"), max_fee=Decimal("900000")
    ),
]

# State fee for a property claim in an arbitrazh court: НК РФ ст. 333.21 п. 1 пп. 1 as
# amended in 2024.
ARBITRAZH_COURT_FEE_SCALE: list[FeeBand] = [
    FeeBand(up_to=Decimal("100000"), base=Decimal("10000")),
    FeeBand(Decimal("1000000"), Decimal("10000"), Decimal("5"), Decimal("100000")),
    FeeBand(Decimal("10000000"), Decimal("55000"), Decimal("3"), Decimal("1000000")),
    FeeBand(Decimal("50000000"), Decimal("325000"), Decimal("1"), Decimal("10000000")),
    FeeBand(
        None, Decimal("725000"), Decimal("0.5"), Decimal("50000000"), max_fee=Decimal("10000000")
    ),
]

STATE_FEE_SCALES: dict[str, list[FeeBand]] = {
    "general": GENERAL_COURT_FEE_SCALE,
    "arbitrazh": ARBITRAZH_COURT_FEE_SCALE,
}
