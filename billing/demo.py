"""Demo billing for the demo city (docs/architecture.md §7): tariffs, norms, a year of closed periods billed
by the real run, and payments with a realistic share of late payers and debtors.

Idempotent: once tariffs exist, nothing is added. Each past month is billed and closed in
order, and its payments arrive in the following month, as they would in life.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import PersonalAccount, Subscriber
from billing import selectors, services
from billing.models import (
    LedgerEntry,
    Norm,
    Payment,
    PaymentAgent,
    Period,
    Service,
    Tariff,
)
from billing.payments.registries.services import import_registry
from meters.models import Meter, MeterReading
from vodokanal.common.money import ZERO, to_kopecks
from vodokanal.common.months import add_months, month_start

POPULATION = PersonalAccount.TariffCategory.POPULATION
OTHER = PersonalAccount.TariffCategory.OTHER

# Prices per m3 with the mid-year indexations (01.07.2025; 01.10.2026), roubles.
TARIFFS = [
    (Service.WATER_SUPPLY, POPULATION, "48.30", date(2025, 1, 1), date(2025, 6, 30)),
    (Service.WATER_SUPPLY, POPULATION, "55.10", date(2025, 7, 1), date(2026, 9, 30)),
    (Service.WATER_SUPPLY, POPULATION, "58.95", date(2026, 10, 1), None),
    (Service.SEWAGE, POPULATION, "38.20", date(2025, 1, 1), date(2025, 6, 30)),
    (Service.SEWAGE, POPULATION, "43.50", date(2025, 7, 1), date(2026, 9, 30)),
    (Service.SEWAGE, POPULATION, "46.30", date(2026, 10, 1), None),
    (Service.WATER_SUPPLY, OTHER, "52.80", date(2025, 1, 1), date(2025, 6, 30)),
    (Service.WATER_SUPPLY, OTHER, "60.20", date(2025, 7, 1), date(2026, 9, 30)),
    (Service.WATER_SUPPLY, OTHER, "64.40", date(2026, 10, 1), None),
    (Service.SEWAGE, OTHER, "41.90", date(2025, 1, 1), date(2025, 6, 30)),
    (Service.SEWAGE, OTHER, "47.70", date(2025, 7, 1), date(2026, 9, 30)),
    (Service.SEWAGE, OTHER, "50.75", date(2026, 10, 1), None),
]
TARIFF_BASIS = "Приказ РЭК — департамента цен и тарифов Краснодарского края (демо)"
NORMS = [(Meter.Kind.COLD, "3.500"), (Meter.Kind.HOT, "2.600")]
NORM_BASIS = "Приказ РЭК Краснодарского края о нормативах потребления (демо)"


def seed_tariffs_and_norms() -> None:
    for service, category, price, valid_from, valid_to in TARIFFS:
        Tariff.objects.create(
            service=service,
            category=category,
            price=Decimal(price),
            valid_from=valid_from,
            valid_to=valid_to,
            basis=TARIFF_BASIS,
        )
    for kind, volume in NORMS:
        Norm.objects.create(
            kind=kind, volume=Decimal(volume), valid_from=date(2017, 1, 1), basis=NORM_BASIS
        )


def seed_demo_billing(*, today: date) -> int:
    """Bill every month of the demo readings before `today`'s, close it, and pay it (mostly),
    with payments up to `today`."""
    if Tariff.objects.exists():
        return 0
    rng = random.Random(644)  # noqa: S311 - demo data
    seed_tariffs_and_norms()
    _mark_hot_water(rng)
    first = MeterReading.objects.order_by("period").values_list("period", flat=True).first()
    current = month_start(today)
    month = first or add_months(current, -12)
    habits = _payment_habits(rng)
    while month < current:
        run = services.create_billing_run(month=month, on=today)
        period = run.period
        services.run_billing(run_id=run.pk)
        services.close_period(period_id=period.pk)
        _pay(rng, period, habits, today=today)
        month = add_months(month, 1)
    _registry_of_today(rng, today=today)
    return Period.objects.count()


def _registry_of_today(rng: random.Random, *, today: date) -> None:
    """A Sberbank registry of this month's payments so far, with one line for an account that
    does not exist: the accountant sees an import report and an unidentified payment."""
    agent = PaymentAgent.objects.filter(code="sberbank").first()
    if agent is None or today.day < 3:
        return
    paid_on = today - timedelta(days=1)
    accounts = list(PersonalAccount.objects.order_by("number")[:15])
    lines = [
        (f"{4312000000 + index}", account.number, account.subscriber.name.upper(),
         account.address.upper(), Decimal(rng.randint(300, 2500)))
        for index, account in enumerate(accounts)
    ]  # fmt: skip
    lines.append(
        ("4312999999", "2300999990", "НЕИЗВЕСТНЫЙ ПЛАТЕЛЬЩИК", "КРАСНОДАР", Decimal("500"))
    )
    body = [
        f"{paid_on:%d-%m-%Y};10-{index % 60:02d}-00;8619;8619/0123;{operation};{number};"
        f"{name};{address};{add_months(paid_on.replace(day=1), -1):%m%Y};{amount:.2f};"
        f"{amount:.2f};0.00"
        for index, (operation, number, name, address, amount) in enumerate(lines)
    ]
    total = sum(amount for *_, amount in lines)
    body.append(f"={len(lines)};{total:.2f};{total:.2f};0.00;901;{today:%d-%m-%Y}")
    data = ("\r\n".join(body) + "\r\n").encode("cp1251")
    import_registry(agent=agent, data=data, file_name=f"sber-{paid_on:%Y%m%d}.txt")


def _mark_hot_water(rng: random.Random) -> None:
    """Flats with a hot-water meter have hot water; most others in town do too."""
    with_hot_meter = set(
        Meter.objects.filter(kind=Meter.Kind.HOT).values_list("account_id", flat=True)
    )
    individuals = PersonalAccount.objects.filter(subscriber__kind=Subscriber.Kind.INDIVIDUAL)
    hot = [
        pk
        for pk in individuals.values_list("pk", flat=True)
        if pk in with_hot_meter or rng.random() < 0.4
    ]
    PersonalAccount.objects.filter(pk__in=hot).update(hot_water=True)


def _payment_habits(rng: random.Random) -> dict[int, str]:
    """on_time 78 %, late 12 %, partial 4 %, debtor 6 % (stops paying at some point)."""
    habits = {}
    for pk in PersonalAccount.objects.order_by("pk").values_list("pk", flat=True):
        roll = rng.random()
        habits[pk] = (
            "on_time"
            if roll < 0.78
            else "late"
            if roll < 0.90
            else "partial"
            if roll < 0.94
            else "debtor"
        )
    return habits


def _pay(rng: random.Random, period: Period, habits: dict[int, str], *, today: date) -> None:
    """Payments for `period`'s receipts, dated in the following month, booked at once."""
    following = add_months(period.month, 1)
    charged = _charges_by_account(period)
    owed = selectors.amounts_due(period=period)  # the receipt's total, old debt included
    months_left = (today.year - following.year) * 12 + today.month - following.month
    payments = []
    for account_id, amount in sorted(charged.items()):
        habit = habits[account_id]
        if habit == "debtor" and months_left < rng.randint(2, 9):
            continue
        day = rng.randint(1, 10) if habit in ("on_time", "partial") else rng.randint(12, 28)
        paid_on = following + timedelta(days=day - 1)
        if habit == "on_time":
            amount = owed[account_id]
        elif habit == "partial":
            amount = to_kopecks(amount * Decimal("0.6"))
        if amount <= ZERO or paid_on > today:
            continue
        payments.append(
            services.NewPayment(
                account_id=account_id,
                amount=amount,
                paid_on=paid_on,
                source=rng.choice([Payment.Source.BANK_REGISTRY] * 3 + [Payment.Source.CABINET]),
                external_id=f"demo-{account_id}-{period.month:%Y%m}",
                for_month=period.month if rng.random() < 0.5 else None,
            )
        )
    services.book_payments(payments)


def _charges_by_account(period: Period) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    for account_id, amount in LedgerEntry.objects.filter(
        period=period, kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ADJUSTMENT]
    ).values_list("account_id", "amount"):
        totals[account_id] = totals.get(account_id, ZERO) + amount
    return totals
