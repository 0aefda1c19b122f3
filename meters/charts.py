"""A server-rendered SVG bar chart of monthly consumption (no JavaScript, no CDN)."""

from dataclasses import dataclass
from decimal import Decimal

from meters.selectors import MonthConsumption
from vodokanal.common.russian import ru_volume

MONTHS_RU = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    x: int
    cold_y: int
    cold_height: int
    hot_y: int
    hot_height: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_width: int
    bars: list[Bar]
    maximum: Decimal
    baseline_y: int


def consumption_chart(
    months: list[MonthConsumption], *, width: int = 600, height: int = 220
) -> Chart:
    """Stacked bars (cold below, hot above) scaled to the largest month."""
    top, bottom = 10, 30
    plot = height - top - bottom
    maximum = max((month.total for month in months), default=Decimal(0)) or Decimal(1)
    step = width // max(len(months), 1)
    bars = []
    for index, month in enumerate(months):
        cold_height = int(plot * month.cold / maximum)
        hot_height = int(plot * month.hot / maximum)
        cold_y = top + plot - cold_height
        label = f"{MONTHS_RU[month.month.month - 1]} {month.month:%y}"
        title = f"{label}: холодная {ru_volume(month.cold)} м³, горячая {ru_volume(month.hot)} м³"
        bars.append(
            Bar(
                label, title, index * step + 4, cold_y, cold_height, cold_y - hot_height, hot_height
            )
        )
    return Chart(width, height, max(step - 8, 4), bars, maximum, top + plot)
