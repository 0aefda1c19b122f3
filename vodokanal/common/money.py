"""Money arithmetic. The only module that rounds amounts (docs/architecture.md §4)."""

from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")


def to_kopecks(amount: Decimal) -> Decimal:
    """Round to whole kopecks, halves away from zero: 1.005 -> 1.01, -1.005 -> -1.01."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


def to_whole_roubles(amount: Decimal) -> Decimal:
    """State fees are paid in whole roubles: under 50 kopecks dropped, 50 and more rounded up
    (НК РФ ст. 52 п. 6)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def from_kopecks(kopecks: int) -> Decimal:
    """Registries and gateways send integer kopecks: 12345 -> Decimal('123.45'), exactly."""
    return Decimal(kopecks).scaleb(-2).quantize(KOPECK)


def charge_amount(*, volume_m3: Decimal, tariff: Decimal) -> Decimal:
    """Volume (3 places) times tariff (roubles per m3), rounded once, at the end."""
    return to_kopecks(volume_m3 * tariff)
