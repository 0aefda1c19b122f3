"""Legal data for penalties and court fees, as seed rows (docs/penalties.md §3, §4, §9).

Staff edit these in tables; a data migration loads them from here. Each row is a small
frozen dataclass or named tuple from billing.penalties, so `dataclasses.asdict(row)` /
`row._asdict()` gives the field values for a model, and the engine takes them as they are.
Amounts and rates are Decimal built from strings; rates are percent a year.
"""

from datetime import date
from decimal import Decimal

from billing.penalties import KeyRate, Moratorium, RateCap

# Bank of Russia key rate (equal to the refinancing rate since 2016), effective from the
# date given, percent a year. Later decisions come from the Bank of Russia's key-rate service.
KEY_RATES: list[KeyRate] = [
    KeyRate(date(2016, 6, 14), Decimal("10.5")),
    KeyRate(date(2016, 9, 19), Decimal("10.0")),
    KeyRate(date(2017, 3, 27), Decimal("9.75")),
    KeyRate(date(2017, 5, 2), Decimal("9.25")),
    KeyRate(date(2017, 6, 19), Decimal("9.0")),
    KeyRate(date(2017, 9, 18), Decimal("8.5")),
    KeyRate(date(2017, 10, 30), Decimal("8.25")),
    KeyRate(date(2017, 12, 18), Decimal("7.75")),
    KeyRate(date(2018, 2, 12), Decimal("7.5")),
    KeyRate(date(2018, 3, 26), Decimal("7.25")),
    KeyRate(date(2018, 9, 17), Decimal("7.5")),
    KeyRate(date(2018, 12, 17), Decimal("7.75")),
    KeyRate(date(2019, 6, 17), Decimal("7.5")),
    KeyRate(date(2019, 7, 29), Decimal("7.25")),
    KeyRate(date(2019, 9, 9), Decimal("7.0")),
    KeyRate(date(2019, 10, 28), Decimal("6.5")),
    KeyRate(date(2019, 12, 16), Decimal("6.25")),
    KeyRate(date(2020, 2, 10), Decimal("6.0")),
    KeyRate(date(2020, 4, 27), Decimal("5.5")),
    KeyRate(date(2020, 6, 22), Decimal("4.5")),
    KeyRate(date(2020, 7, 27), Decimal("4.25")),
    KeyRate(date(2021, 3, 22), Decimal("4.5")),
    KeyRate(date(2021, 4, 26), Decimal("5.0")),
    KeyRate(date(2021, 6, 15), Decimal("5.5")),
    KeyRate(date(2021, 7, 26), Decimal("6.5")),
    KeyRate(date(2021, 9, 13), Decimal("6.75")),
    KeyRate(date(2021, 10, 25), Decimal("7.5")),
    KeyRate(date(2021, 12, 20), Decimal("8.5")),
    KeyRate(date(2022, 2, 14), Decimal("9.5")),
    KeyRate(date(2022, 2, 28), Decimal("20.0")),
    KeyRate(date(2022, 4, 11), Decimal("17.0")),
    KeyRate(date(2022, 5, 4), Decimal("14.0")),
    KeyRate(date(2022, 5, 27), Decimal("11.0")),
    KeyRate(date(2022, 6, 14), Decimal("9.5")),
    KeyRate(date(2022, 7, 25), Decimal("8.0")),
    KeyRate(date(2022, 9, 19), Decimal("7.5")),
    KeyRate(date(2023, 7, 24), Decimal("8.5")),
    KeyRate(date(2023, 8, 15), Decimal("12.0")),
    KeyRate(date(2023, 9, 18), Decimal("13.0")),
    KeyRate(date(2023, 10, 30), Decimal("15.0")),
    KeyRate(date(2023, 12, 18), Decimal("16.0")),
    KeyRate(date(2024, 7, 29), Decimal("18.0")),
    KeyRate(date(2024, 9, 16), Decimal("19.0")),
    KeyRate(date(2024, 10, 28), Decimal("21.0")),
    KeyRate(date(2025, 6, 9), Decimal("20.0")),
    KeyRate(date(2025, 7, 28), Decimal("18.0")),
    KeyRate(date(2025, 9, 15), Decimal("17.0")),
    KeyRate(date(2025, 10, 27), Decimal("16.5")),
]

MORATORIA: list[Moratorium] = [
    Moratorium(
        date_from=date(2020, 4, 6),
        date_to=date(2020, 12, 31),
        months_ended_before=None,  # every category, every debt
        basis=(
            "Постановление Правительства РФ от 02.04.2020 № 424: пени за несвоевременную "
            "оплату не начисляются с 06.04.2020 по 31.12.2020."
        ),
    ),
    Moratorium(
        date_from=date(2022, 4, 1),
        date_to=date(2022, 10, 1),
        months_ended_before=date(2022, 4, 1),  # debts for April 2022 onward accrue normally
        basis=(
            "Постановление Правительства РФ от 28.03.2022 № 497 (мораторий на банкротство); "
            "постановление Пленума ВС РФ № 44, п. 7: пени не начисляются с 01.04.2022 по "
            "01.10.2022 на долги за месяцы, закончившиеся до 01.04.2022."
        ),
    ),
]

RATE_CAPS: list[RateCap] = [
    RateCap(
        date_from=date(2022, 2, 28),
        date_to=date(2024, 12, 31),
        rate=Decimal("9.5"),  # the key rate on 27.02.2022
        basis=(
            "Постановление Правительства РФ от 26.03.2022 № 474 (с продлениями): ставка не "
            "выше ключевой ставки на 27.02.2022 (9,5 %) с 28.02.2022 по 31.12.2024."
        ),
    ),
]
