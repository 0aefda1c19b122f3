"""The bench city: N accounts with a year of history, built with COPY (docs/architecture.md §11 (results: BENCHMARKS.md)).

The measured month is the last full month (the period the billing run bills); the twelve
months before it are closed periods with their history, as the real runs would have left
it: the volumes each run billed (readings, estimates, norms), the charges, and the payments
of a realistic population of payers:

- subscribers: 96 % individuals, 3 % organisations, 1 % managing organisations (УК), one
  account each, with valid account numbers (accounts.services.account_number_for), INNs and
  OGRNs;
- meters: cold water in 9 of 10 flats, hot water where the flat has it; 1 % broken and 2 %
  past their verification date in the course of the year (their readings stop there);
- readings every month (day 15-25); in the month before the measured one 7 % of meters
  missed it (the run billed the average), half of those passed it late, in the measured
  month; in the measured month 7 % miss it again. So the measured run meets every rule of
  billing.charges: readings, late readings, reversed estimates, averages, norms with the
  coefficient, no meter at all;
- payers: 80 % on time, 12 % late (after the due date), 3 % partly, 5 % stop paying at
  some month: about 8 % of accounts owe overdue debt.

Rows are made in Python and sent with COPY (`copy_expert`) in blocks of accounts, so memory
stays flat at 1,000,000 accounts; the ledger rows derived from them (charges, payments) are
one INSERT ... SELECT each. The history needs no billing run: the measured run is the real
one. Foreign-key and ledger triggers are off while the city is loaded (session_replication_role
= replica, when the database user may) because the rows are consistent by construction.

A city is reused when the bench finds one of the same size and month (the table
`bench_city` says so); `fresh=True` wipes the city's tables and builds it again.
"""

import io
import logging
import random
import string
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from accounts.services import account_number_for
from billing.demo import seed_tariffs_and_norms
from billing.models import BillingRun, Norm, Period, Tariff
from vodokanal.common import clock
from vodokanal.common.months import add_months, month_start

logger = logging.getLogger(__name__)

BLOCK = 20_000  # accounts generated and sent per round of COPY
HISTORY_MONTHS = 12
BENCH_EMAIL_DOMAIN = "bench.invalid"

# Tables of the city, wiped by fresh=True (CASCADE takes their dependants: links, debt
# cases, documents, phone calls). Reference data seeded by migrations is never touched.
CITY_TABLES = [
    "accounts_subscriber",
    "accounts_personalaccount",
    "accounts_historicalsubscriber",
    "accounts_historicalpersonalaccount",
    "meters_meter",
    "meters_meterreading",
    "meters_historicalmeter",
    "meters_historicalmeterreading",
    "meters_importbatch",
    "billing_tariff",
    "billing_norm",
    "billing_historicaltariff",
    "billing_historicalnorm",
    "billing_period",
    "billing_billingrun",
    "billing_metervolume",
    "billing_ledgerentry",
    "billing_payment",
    "billing_receipt",
    "billing_receiptbatch",
    "billing_registryimport",
    "billing_unidentifiedpayment",
    "billing_accrualregistry",
    "billing_onlinepayment",
]

SURNAMES = [
    "Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Васильев", "Соколов",
    "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов",
    "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров",
]  # fmt: skip
FIRST_NAMES = [
    ("Александр", "Александра"), ("Сергей", "Светлана"), ("Дмитрий", "Дарья"),
    ("Андрей", "Анна"), ("Алексей", "Алёна"), ("Михаил", "Мария"), ("Иван", "Ирина"),
    ("Николай", "Наталья"), ("Евгений", "Елена"), ("Владимир", "Валентина"),
]  # fmt: skip
PATRONYMICS = [
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Иванович", "Ивановна"),
    ("Петрович", "Петровна"), ("Николаевич", "Николаевна"), ("Викторович", "Викторовна"),
]  # fmt: skip
STREETS = [
    "Красная", "Северная", "Ставропольская", "Московская", "Уральская", "Садовая", "Зиповская",
    "Тургенева", "Кубанская Набережная", "Мира", "Гагарина", "Российская", "Калинина",
    "Бабушкина", "Рашпилевская", "Коммунаров", "Офицерская", "Селезнёва", "Восточно-Кругликовская",
]  # fmt: skip
COMPANY_WORDS = [
    "Кубань", "Агро", "Строй", "Торг", "Сервис", "Юг", "Техно", "Пром", "Инвест", "Дом",
    "Лайн", "Хлеб", "Авто", "Мед", "Фарм",
]  # fmt: skip
CHANNELS = (
    ["cabinet"] * 8 + ["bank_registry"] * 5 + ["phone"] * 3 + ["operator"] * 2
    + ["controller_import"] * 2
)  # fmt: skip
LINK_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

NORM_COLD_L = 3500  # litres a month per resident, as billing.demo seeds the norms
NORM_HOT_L = 2600
FAULTY_COEFFICIENT = Decimal("1.5")


@dataclass(frozen=True)
class City:
    """What the bench knows about the city it measures."""

    accounts: int
    month: date  # the measured month: its period is open and not billed yet
    built_at: datetime
    build_seconds: float
    reused: bool
    rows: dict[str, int]

    @property
    def history_start(self) -> date:
        return add_months(self.month, -HISTORY_MONTHS)


def measured_month(today: date | None = None) -> date:
    """The last full month: every day of it (readings, payments) is in the past."""
    return add_months(month_start(today or clock.today()), -1)


# --- Entry point ---


def ensure_city(
    *, accounts: int, fresh: bool = False, seed: int = 8, log: Callable[[str], None] = logger.info
) -> City:
    """The city of `accounts` accounts for the measured month: reused if it exists, else
    built (after wiping any other city's tables)."""
    month = measured_month()
    existing = _marker()
    if (
        not fresh
        and existing is not None
        and existing["accounts"] == accounts
        and existing["month"] == month
        and existing["seed"] == seed
    ):
        log(f"reusing the city of {accounts} accounts built {existing['built_at']:%Y-%m-%d %H:%M}")
        return City(
            accounts=accounts,
            month=month,
            built_at=existing["built_at"],
            build_seconds=existing["build_seconds"],
            reused=True,
            rows=table_rows(),
        )
    if existing is not None or _has_accounts():
        log("wiping the previous city")
    wipe()
    started = time.perf_counter()
    Builder(accounts=accounts, month=month, seed=seed, log=log).build()
    seconds = time.perf_counter() - started
    built_at = clock.now()
    _write_marker(accounts=accounts, month=month, seed=seed, built_at=built_at, seconds=seconds)
    log(f"city of {accounts} accounts built in {seconds:.1f} s")
    return City(
        accounts=accounts,
        month=month,
        built_at=built_at,
        build_seconds=seconds,
        reused=False,
        rows=table_rows(),
    )


def wipe() -> None:
    """Remove the city: its tables, the bench's users and the marker."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(CITY_TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [f"%@{BENCH_EMAIL_DOMAIN}"])
        cursor.execute("DROP TABLE IF EXISTS bench_city")


def table_rows() -> dict[str, int]:
    """Estimated rows of the big tables (planner statistics: instant at any size)."""
    names = [
        "accounts_personalaccount",
        "meters_meter",
        "meters_meterreading",
        "billing_metervolume",
        "billing_ledgerentry",
        "billing_payment",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)", [names]
        )
        return {name: max(count, 0) for name, count in cursor.fetchall()}


def _has_accounts() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM accounts_personalaccount)")
        return cursor.fetchone()[0]


def _marker() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_city') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT accounts, month, seed, built_at, build_seconds FROM bench_city")
        row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(("accounts", "month", "seed", "built_at", "build_seconds"), row, strict=True))


def _write_marker(
    *, accounts: int, month: date, seed: int, built_at: datetime, seconds: float
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE bench_city (accounts integer, month date, seed integer,
                                     built_at timestamptz, build_seconds double precision)
            """
        )
        cursor.execute(
            "INSERT INTO bench_city VALUES (%s, %s, %s, %s, %s)",
            [accounts, month, seed, built_at, seconds],
        )


# --- COPY ---


class _Rows(io.TextIOBase):
    """A file over an iterator of text lines, for copy_expert (no list in memory)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = size if size is not None and size >= 0 else 1 << 30
        parts = [self._buffer]
        length = len(self._buffer)
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if length >= want:
                break
        text = "".join(parts)
        self._buffer = text[want:]
        return text[:want]

    readline = read


def copy_rows(table: str, columns: Iterable[str], lines: Iterable[str]) -> None:
    """COPY tab-separated lines (already escaped, \\N for NULL) into `table`."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, _Rows(lines), size=1 << 20)


def _litres(value: int) -> str:
    """m3 with 3 decimals from whole litres."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 1000}.{value % 1000:03d}"


def _inn10(rng: random.Random) -> str:
    digits = "23" + "".join(rng.choice(string.digits) for _ in range(7))
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return digits + str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def _ogrn(rng: random.Random) -> str:
    first = "10223" + "".join(rng.choice(string.digits) for _ in range(7))
    return first + str(int(first) % 11 % 10)


# --- The builder ---


SUBSCRIBER_COLUMNS = (
    "id", "kind", "name", "short_name", "inn", "kpp", "ogrn", "legal_address", "postal_address",
    "email", "phone", "contract_number", "contract_date", "due_day", "socially_important",
    "created_at",
)  # fmt: skip
ACCOUNT_COLUMNS = (
    "id", "number", "address", "residents", "water_supply", "sewage", "tariff_category",
    "opened_on", "closed_on", "link_code", "subscriber_id", "hot_water",
)  # fmt: skip
METER_COLUMNS = (
    "id", "serial", "kind", "digits", "installed_on", "sealed_on", "verification_due",
    "initial_reading", "state", "removed_on", "account_id",
)  # fmt: skip
READING_COLUMNS = (
    "id", "value", "taken_on", "period", "submitted_at", "channel", "status", "consumption",
    "rolled_over", "needs_review", "reason_code", "reason", "import_batch_id", "meter_id",
    "submitted_by_id",
)  # fmt: skip
VOLUME_COLUMNS = (
    "id", "kind", "for_month", "volume", "basis", "account_id", "meter_id", "reading_id",
    "reverses_id", "run_id", "period_id",
)  # fmt: skip


class Builder:
    """Builds the city into an empty set of city tables; see the module docstring."""

    def __init__(self, *, accounts: int, month: date, seed: int, log: Callable[[str], None]):
        self.accounts = accounts
        self.month = month
        self.seed = seed
        self.log = log
        self.months = [add_months(month, -HISTORY_MONTHS + i) for i in range(HISTORY_MONTHS + 1)]
        self.next_id: dict[str, int] = {}

    def build(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        self._reference_data()
        replica = self._triggers_off()
        try:
            started = time.perf_counter()
            for table in ("accounts_subscriber", "accounts_personalaccount", "meters_meter",
                          "meters_meterreading", "billing_metervolume"):  # fmt: skip
                self.next_id[table] = self._max_id(table) + 1
            for first in range(0, self.accounts, BLOCK):
                self._block(first, min(first + BLOCK, self.accounts))
                done = min(first + BLOCK, self.accounts)
                if done % (BLOCK * 10) == 0 or done == self.accounts:
                    self.log(f"  {done} accounts copied ({time.perf_counter() - started:.0f} s)")
            self._ledger()
            self.log(f"  ledger derived ({time.perf_counter() - started:.0f} s)")
        finally:
            if replica:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = origin")
        self._close_history()
        self._sequences()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.log("  vacuumed and analysed")

    # Reference data: tariffs, norms, periods, the history's runs (a handful of rows).

    def _reference_data(self) -> None:
        if not Tariff.objects.exists() and not Norm.objects.exists():
            seed_tariffs_and_norms()
        first = self.months[0]
        earliest = Tariff.objects.order_by("valid_from").values_list("valid_from", flat=True)[0]
        if earliest > first:  # a bench run before the demo tariffs begin: extend them back
            for tariff in Tariff.objects.filter(valid_from=earliest):
                Tariff.objects.create(
                    service=tariff.service,
                    category=tariff.category,
                    price=tariff.price,
                    valid_from=first,
                    valid_to=earliest - timedelta(days=1),
                    basis=tariff.basis,
                )
        self.periods = {}
        self.runs = {}
        for month in self.months:
            period, _ = Period.objects.get_or_create(month=month)
            self.periods[month] = period.pk
            if month < self.month:
                run = BillingRun.objects.create(
                    period=period,
                    status=BillingRun.Status.DONE,
                    step="Готово",
                    started_at=clock.now(),
                    finished_at=clock.now(),
                )
                self.runs[month] = run.pk

    def _triggers_off(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET session_replication_role = replica")
                return True
        return False

    def _max_id(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608 - constant
            return cursor.fetchone()[0]

    def _take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    # Master data and the history of volumes, block by block.

    def _block(self, first: int, last: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + first)  # noqa: S311 - bench data
        subscribers: list[str] = []
        accounts: list[str] = []
        meters: list[str] = []
        readings: list[str] = []
        volumes: list[str] = []
        for index in range(first, last):
            self._account(index, rng, subscribers, accounts, meters, readings, volumes)
        with transaction.atomic():
            copy_rows("accounts_subscriber", SUBSCRIBER_COLUMNS, subscribers)
            copy_rows("accounts_personalaccount", ACCOUNT_COLUMNS, accounts)
            copy_rows("meters_meter", METER_COLUMNS, meters)
            copy_rows("meters_meterreading", READING_COLUMNS, readings)
            copy_rows("billing_metervolume", VOLUME_COLUMNS, volumes)

    def _account(
        self,
        index: int,
        rng: random.Random,
        subscribers: list[str],
        accounts: list[str],
        meters: list[str],
        readings: list[str],
        volumes: list[str],
    ) -> None:
        subscriber_id = self._take("accounts_subscriber")
        account_id = self._take("accounts_personalaccount")
        roll = rng.random()
        kind = "individual" if roll < 0.96 else "legal" if roll < 0.99 else "managing_org"
        street = rng.choice(STREETS)
        house = rng.randint(1, 250)
        created = "2015-01-01 09:00:00+00"
        if kind == "individual":
            male = rng.random() < 0.5
            first_name = rng.choice(FIRST_NAMES)[0 if male else 1]
            patronymic = rng.choice(PATRONYMICS)[0 if male else 1]
            surname = rng.choice(SURNAMES) + ("" if male else "а")
            name = f"{surname} {first_name} {patronymic}"
            address = f"г. Краснодар, ул. {street}, д. {house}, кв. {rng.randint(1, 180)}"
            residents = rng.choices((1, 2, 3, 4, 5), weights=(25, 35, 22, 12, 6))[0]
            hot_water = rng.random() < 0.4
            sewage = rng.random() < 0.97
            category = "population"
            subscribers.append(
                f"{subscriber_id}\tindividual\t{name}\t\t\t\t\t\t\t\t\t\t\\N\t10\tf\t{created}\n"
            )
        else:
            words = rng.sample(COMPANY_WORDS, 2)
            title = f"«{words[0]}{words[1].lower()}-{index}»"
            name = f"{'ООО' if kind == 'legal' else 'ООО УК'} {title}"
            address = f"г. Краснодар, ул. {street}, д. {house}"
            residents = 0 if kind == "legal" else rng.randint(40, 240)
            hot_water = kind == "managing_org"
            sewage = True
            category = "other" if kind == "legal" else "population"
            due_day = 10 if kind == "managing_org" else rng.choice((10, 15))
            subscribers.append(
                f"{subscriber_id}\t{kind}\t{name}\t{name}\t{_inn10(rng)}\t231001001\t{_ogrn(rng)}\t"
                f"{address}\t{address}\t\t\tВК-{index:07d}\t2015-01-01\t{due_day}\t"
                f"{'t' if rng.random() < 0.1 else 'f'}\t{created}\n"
            )
        link_code = "".join(rng.choice(LINK_ALPHABET) for _ in range(8))
        accounts.append(
            f"{account_id}\t{account_number_for(index + 1)}\t{address}\t{residents}\tt\t"
            f"{'t' if sewage else 'f'}\t{category}\t2015-01-01\t\\N\t{link_code}\t"
            f"{subscriber_id}\t{'t' if hot_water else 'f'}\n"
        )
        # Meters: cold in 9 of 10 flats (always for organisations), hot where there is hot water.
        has_cold = kind != "individual" or rng.random() < 0.9
        has_hot = hot_water and (kind != "individual" or rng.random() < 0.85)
        if kind == "individual":
            cold_base = residents * rng.randint(2200, 4000)
            hot_base = residents * rng.randint(1200, 2200)
        elif kind == "legal":
            cold_base, hot_base = rng.randint(5_000, 200_000), 0
        else:
            cold_base, hot_base = residents * 3300, residents * 2300
        for meter_kind, present, base in (
            ("cold", has_cold, cold_base),
            ("hot", has_hot, hot_base),
        ):
            if present:
                self._meter(account_id, meter_kind, base, residents, rng, meters, readings, volumes)
            elif meter_kind == "cold" or (hot_water and sewage):
                norm = (NORM_COLD_L if meter_kind == "cold" else NORM_HOT_L) * residents
                volumes.extend(
                    f"{self._take('billing_metervolume')}\t{meter_kind}\t{month}\t"
                    f"{_litres(norm)}\tnorm\t{account_id}\t\\N\t\\N\t\\N\t{self.runs[month]}\t"
                    f"{self.periods[month]}\n"
                    for month in self.months[:-1]
                )

    def _meter(
        self,
        account_id: int,
        kind: str,
        base: int,
        residents: int,
        rng: random.Random,
        meters: list[str],
        readings: list[str],
        volumes: list[str],
    ) -> None:
        meter_id = self._take("meters_meter")
        installed = date(2019, 1, 1) + timedelta(days=rng.randint(0, 1400))
        verification_due = installed + timedelta(days=6 * 365)
        state = "working"
        roll = rng.random()
        stops = len(self.months)  # index of the first month without readings
        if roll < 0.01:
            state, stops = "broken", rng.randint(3, len(self.months) - 1)
        elif roll < 0.03:
            stops = rng.randint(3, len(self.months) - 1)
            verification_due = self.months[stops] - timedelta(days=1)
            state = "verification_expired" if rng.random() < 0.5 else "working"
        if state == "working" and stops == len(self.months) and verification_due < self.month:
            verification_due = self.month.replace(year=self.month.year + 2)
        initial = rng.randint(0, 300_000)
        meters.append(
            f"{meter_id}\t{'ХВ' if kind == 'cold' else 'ГВ'}-{meter_id:08d}\t{kind}\t5\t"
            f"{installed}\t{installed}\t{verification_due}\t{_litres(initial)}\t{state}\t\\N\t"
            f"{account_id}\n"
        )
        value = initial
        last_value = initial
        used: list[int] = []  # consumption of each billed reading, for the average
        last = len(self.months) - 1
        missed_before = rng.random() < 0.07  # the month before the measured one
        late = missed_before and rng.random() < 0.5
        missed_now = rng.random() < 0.07
        faulty_months = 0
        for position, month in enumerate(self.months):
            value += max(0, int(base * rng.uniform(0.7, 1.3)))
            if position >= stops:  # broken or unverified: estimates, no readings
                if position == last:
                    continue
                faulty_months += 1
                if faulty_months <= 3 and len(used) >= 3:
                    basis, volume = "average", round(sum(used[-6:]) / len(used[-6:]))
                else:
                    norm = NORM_COLD_L if kind == "cold" else NORM_HOT_L
                    basis, volume = "norm_increased", int(norm * residents * FAULTY_COEFFICIENT)
                self._volume(volumes, account_id, meter_id, kind, month, volume, basis)
                continue
            if (position == last - 1 and missed_before) or (position == last and missed_now):
                if position == last - 1:
                    self._volume(
                        volumes, account_id, meter_id, kind, month,
                        round(sum(used[-6:]) / len(used[-6:])), "average",
                    )  # fmt: skip
                    if late:  # passed after the run: the measured run bills it late
                        day = month.replace(day=24)
                        submitted = add_months(month, 1).replace(day=rng.randint(2, 12))
                        consumption = value - last_value
                        self._reading(
                            readings, meter_id, value, day, month, submitted, "operator",
                            consumption,
                        )  # fmt: skip
                        last_value = value
                continue
            taken = month.replace(day=rng.randint(15, 25))
            consumption = value - last_value
            reading_id = self._reading(
                readings, meter_id, value, taken, month, taken, rng.choice(CHANNELS), consumption
            )
            last_value = value
            used.append(consumption)
            if position < last:
                self._volume(
                    volumes, account_id, meter_id, kind, month, consumption, "readings", reading_id
                )

    def _reading(
        self,
        readings: list[str],
        meter_id: int,
        value: int,
        taken: date,
        month: date,
        submitted: date,
        channel: str,
        consumption: int,
    ) -> int:
        reading_id = self._take("meters_meterreading")
        readings.append(
            f"{reading_id}\t{_litres(value)}\t{taken}\t{month}\t{submitted} 09:00:00+00\t"
            f"{channel}\taccepted\t{_litres(consumption)}\tf\tf\t\t\t\\N\t{meter_id}\t\\N\n"
        )
        return reading_id

    def _volume(
        self,
        volumes: list[str],
        account_id: int,
        meter_id: int,
        kind: str,
        month: date,
        litres: int,
        basis: str,
        reading_id: int | None = None,
    ) -> None:
        volumes.append(
            f"{self._take('billing_metervolume')}\t{kind}\t{month}\t{_litres(litres)}\t{basis}\t"
            f"{account_id}\t{meter_id}\t{reading_id if reading_id else chr(92) + 'N'}\t\\N\t"
            f"{self.runs[month]}\t{self.periods[month]}\n"
        )

    # The ledger of the history, derived in the database.

    def _ledger(self) -> None:
        """Charges of each history month from its volumes (the rules of billing.charges
        step 6 for whole months), then the payments of each kind of payer, and their
        ledger entries."""
        params = {"first": self.months[0], "month": self.month}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_HISTORY_CHARGES, params)
            cursor.execute(_HISTORY_PAYMENTS, params)
            cursor.execute(_HISTORY_PAYMENT_ENTRIES)

    def _close_history(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_period SET status = 'closed', closed_at = %s "
                "WHERE month < %s AND status = 'open'",
                [clock.now(), self.month],
            )
            for month in self.months[:-1]:
                cursor.execute(
                    """
                    UPDATE billing_billingrun r SET
                        accounts = s.accounts, charged = s.charged
                    FROM (SELECT count(DISTINCT account_id) AS accounts, sum(amount) AS charged
                          FROM billing_ledgerentry WHERE run_id = %s AND kind = 'charge') s
                    WHERE r.id = %s
                    """,
                    [self.runs[month], self.runs[month]],
                )

    def _sequences(self) -> None:
        """Identity sequences after explicit ids, and the account-number sequence after
        the numbers used."""
        with connection.cursor() as cursor:
            for table in self.next_id:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"GREATEST((SELECT max(id) FROM {table}), 1))"
                )
            cursor.execute(
                "SELECT setval('accounts_account_number_seq', GREATEST(%s, "
                "(SELECT last_value FROM accounts_account_number_seq)))",
                [self.accounts + 1],
            )


# Whole months: every tariff change of billing.demo falls on the 1st, but a month with two
# tariffs is still priced by days, as billing.charges does.
_HISTORY_CHARGES = """
WITH months AS (
    SELECT m::date AS month, (m + interval '1 month' - interval '1 day')::date AS last_day
    FROM generate_series(%(first)s::date, %(month)s::date - interval '1 month',
                         interval '1 month') m
),
prices AS (
    SELECT t.service, t.category, m.month, m.last_day,
           sum(t.price * (LEAST(COALESCE(t.valid_to, 'infinity'::date), m.last_day)
                          - GREATEST(t.valid_from, m.month) + 1))
           / (m.last_day - m.month + 1) AS price
    FROM months m JOIN billing_tariff t
      ON t.valid_from <= m.last_day AND COALESCE(t.valid_to, 'infinity'::date) >= m.month
    GROUP BY t.service, t.category, m.month, m.last_day
),
volumes AS (
    SELECT v.account_id, v.period_id, v.run_id, v.for_month,
           sum(v.volume) FILTER (WHERE v.kind = 'cold') AS cold, sum(v.volume) AS total,
           max(CASE v.basis WHEN 'readings' THEN 1 WHEN 'average' THEN 2 WHEN 'norm' THEN 3
                            ELSE 4 END) FILTER (WHERE v.kind = 'cold') AS cold_rank,
           max(CASE v.basis WHEN 'readings' THEN 1 WHEN 'average' THEN 2 WHEN 'norm' THEN 3
                            ELSE 4 END) AS rank
    FROM billing_metervolume v
    GROUP BY v.account_id, v.period_id, v.run_id, v.for_month
)
INSERT INTO billing_ledgerentry
    (account_id, period_id, kind, service, amount, volume, basis, tariff, for_month, booked_on,
     reason, run_id, created_at)
SELECT v.account_id, v.period_id, 'charge', s.service,
       round(COALESCE(CASE s.service WHEN 'water_supply' THEN v.cold ELSE v.total END, 0)
             * p.price, 2),
       COALESCE(CASE s.service WHEN 'water_supply' THEN v.cold ELSE v.total END, 0),
       CASE COALESCE(CASE s.service WHEN 'water_supply' THEN v.cold_rank ELSE v.rank END, 1)
           WHEN 1 THEN 'readings' WHEN 2 THEN 'average' WHEN 3 THEN 'norm'
           ELSE 'norm_increased' END,
       round(p.price, 4), v.for_month, p.last_day, '', v.run_id, p.last_day + time '22:00'
FROM volumes v
JOIN accounts_personalaccount a ON a.id = v.account_id
JOIN (VALUES ('water_supply'), ('sewage')) AS s(service)
  ON (s.service = 'water_supply' AND a.water_supply) OR (s.service = 'sewage' AND a.sewage)
JOIN prices p ON p.service = s.service AND p.category = a.tariff_category
     AND p.month = v.for_month
"""

# Kinds of payer from a hash of the account id (per mille): on time < 800, late < 920,
# partly < 950, else stops paying after a few months. Each month's charges are paid in the
# following month: on time by the 10th, late from the 12th to the 28th.
_HISTORY_PAYMENTS = """
WITH owed AS (
    SELECT e.account_id, e.for_month AS month, sum(e.amount) AS amount,
           (e.account_id * 2654435761 %% 1000) AS payer,
           billing_month_index(e.for_month) - billing_month_index(%(first)s::date) AS position
    FROM billing_ledgerentry e
    WHERE e.kind = 'charge' AND e.for_month >= %(first)s AND e.for_month < %(month)s
    GROUP BY e.account_id, e.for_month
)
INSERT INTO billing_payment
    (amount, paid_on, received_at, source, external_id, for_month, for_penalty, account_id)
SELECT x.amount, x.paid_on, x.paid_on + time '12:00',
       CASE WHEN x.account_id %% 4 = 0 THEN 'cabinet' ELSE 'bank_registry' END,
       'bench-' || x.account_id || '-' || to_char(x.month, 'YYYYMM'),
       CASE WHEN (x.account_id + x.position) %% 2 = 0 THEN x.month END, false, x.account_id
FROM (
    SELECT o.account_id, o.month, o.position,
           CASE WHEN o.payer >= 920 AND o.payer < 950 THEN round(o.amount * 0.6, 2)
                ELSE o.amount END AS amount,
           (o.month + interval '1 month')::date
           + CASE WHEN o.payer >= 800 AND o.payer < 920
                  THEN 11 + (o.account_id + o.position * 7) %% 17
                  ELSE (o.account_id + o.position * 3) %% 10 END::integer AS paid_on
    FROM owed o
    WHERE o.amount > 0 AND NOT (o.payer >= 950 AND o.position >= o.payer %% 9 + 2)
) x
"""

_HISTORY_PAYMENT_ENTRIES = """
INSERT INTO billing_ledgerentry
    (account_id, period_id, kind, service, amount, basis, for_month, booked_on, reason,
     payment_id, created_at)
SELECT p.account_id, per.id, 'payment', '', -p.amount, '', COALESCE(p.for_month, per.month),
       p.paid_on,
       'Оплата от ' || to_char(p.paid_on, 'DD.MM.YYYY') || ', '
       || CASE p.source WHEN 'cabinet' THEN 'Личный кабинет' ELSE 'Реестр банка' END,
       p.id, p.received_at
FROM billing_payment p
JOIN billing_period per ON per.month = date_trunc('month', p.paid_on)::date
WHERE p.external_id LIKE 'bench-%'
"""
