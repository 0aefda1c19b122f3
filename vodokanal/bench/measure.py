"""The measurements of the bench (docs/architecture.md §11 (results: BENCHMARKS.md)): each step of the monthly cycle, timed against a
floor measured in the same run on the same data, with the peak memory of the step.

Every step calls the real services (billing.services, billing.payments.registries.services, debtors.batches);
only the floor is bench code. A step first removes what an earlier bench run left in the
open period (the rows the step itself would replace), so a reused city measures the same
work as a fresh one.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import psutil
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test.utils import override_settings
from django.urls import reverse
from pypdf import PdfReader
from weasyprint import HTML

from accounts.models import AccountLink, PersonalAccount, User
from billing import selectors, services
from billing.models import (
    BillingRun,
    LedgerEntry,
    MeterVolume,
    PaymentAgent,
    Period,
    Receipt,
    ReceiptBatch,
)
from billing.payments.registries.services import import_registry
from debtors import batch_tasks, batches, documents
from debtors import selectors as debtor_selectors
from debtors.models import DebtCase, DebtDocument, DocumentBatch
from vodokanal.bench.city import BENCH_EMAIL_DOMAIN, City
from vodokanal.common import clock
from vodokanal.common.months import month_end

MIB = 1024 * 1024


@dataclass
class Step:
    """One measured step: its time, the floor's time on the same data, and what it did."""

    name: str
    seconds: float
    floor: str
    floor_seconds: float
    peak_mib: float  # peak resident memory of the process(es) doing the step
    growth_mib: float = 0.0  # how much of it the step added (memory is not given back)
    items: int = 0  # accounts, debtors, pages, lines, requests
    unit: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds if self.floor_seconds else float("inf")

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


@dataclass
class LoadResult:
    """One page under load: throughput and latency (milliseconds)."""

    page: str
    users: int
    think: str
    requests: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    server_peak_mib: float
    failures: dict[str, int] = field(default_factory=dict)


# --- Memory ---


class PeakMemory:
    """Samples the resident memory of processes (this one by default) every 20 ms in a
    thread; `peak_mib` is the largest sum seen, `growth_mib` how far above the start."""

    def __init__(self, pids: Callable[[], list[int]] | None = None) -> None:
        self._pids = pids or (lambda: [os.getpid()])
        self._stop = threading.Event()
        self.peak = 0
        self.start = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for pid in self._pids():
            try:
                total += psutil.Process(pid).memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.02)

    def __enter__(self) -> "PeakMemory":
        self.start = self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())

    @property
    def peak_mib(self) -> float:
        return self.peak / MIB

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / MIB


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t: ...` then t[0] is the seconds taken."""
    result: list[float] = []
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.append(time.perf_counter() - started)


def _sql(statement: str, params: object = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _period(city: City) -> Period:
    return Period.objects.get(month=city.month)


# --- Reset of what earlier bench runs left ---


def reset(city: City) -> None:
    """Remove the measured steps' rows of earlier bench runs on this city: the open period's
    run rows, registry imports with their payments and readings, receipts, debt documents,
    the load test's users. Ledger rows of payments are removed with the ledger's triggers
    off for this transaction (bench rows only; needs a superuser, as the city build does)."""
    period = _period(city)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SELECT EXISTS (SELECT 1 FROM billing_registryimport)")
        imported = cursor.fetchone()[0]
        if imported and not superuser:
            raise RuntimeError(
                "An earlier bench run's registry is in the city and this database user may "
                "not remove ledger rows: run the bench with --fresh."
            )
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM billing_ledgerentry WHERE payment_id IN "
            "(SELECT id FROM billing_payment WHERE registry_id IS NOT NULL)"
        )
        for statement in (
            "DELETE FROM billing_payment WHERE registry_id IS NOT NULL",
            "DELETE FROM billing_unidentifiedpayment",
            "DELETE FROM billing_registryimport",
            "DELETE FROM billing_receipt",
            "DELETE FROM billing_receiptbatch",
            "DELETE FROM debtors_caseevent",
            "DELETE FROM debtors_debtdocument",
            "DELETE FROM debtors_documentbatch",
            "DELETE FROM debtors_debtcase",
            "DELETE FROM billing_accrualregistry",
        ):
            cursor.execute(statement)
        cursor.execute(
            "DELETE FROM billing_ledgerentry WHERE period_id = %s AND run_id IS NOT NULL",
            [period.pk],
        )
        cursor.execute("DELETE FROM billing_metervolume WHERE period_id = %s", [period.pk])
        cursor.execute(
            "DELETE FROM meters_historicalmeterreading WHERE history_date > %s", [city.built_at]
        )
        cursor.execute("DELETE FROM meters_meterreading WHERE submitted_at > %s", [city.built_at])
        cursor.execute(
            "DELETE FROM accounts_accountlink WHERE user_id IN "
            "(SELECT id FROM accounts_user WHERE email LIKE %s)",
            [f"%@{BENCH_EMAIL_DOMAIN}"],
        )
    BillingRun.objects.filter(period=period).exclude(status=BillingRun.Status.DONE).update(
        status=BillingRun.Status.FAILED, error="Прерван (бенчмарк)."
    )


# --- 1. The billing run ---

# The floor: one statement computing each account's charges of the month from its readings,
# the norm where a meter of a kind is missing or silent, and the tariff at the 1st.
_FLOOR_CHARGES = """
CREATE TEMP TABLE bench_floor_charges ON COMMIT DROP AS
WITH volumes AS (
    SELECT m.account_id,
           sum(r.consumption) FILTER (WHERE m.kind = 'cold') AS cold,
           sum(r.consumption) FILTER (WHERE m.kind = 'hot') AS hot
    FROM meters_meterreading r JOIN meters_meter m ON m.id = r.meter_id
    WHERE r.period = %(month)s AND r.status = 'accepted'
    GROUP BY m.account_id
),
norms AS (
    SELECT max(volume) FILTER (WHERE kind = 'cold') AS cold,
           max(volume) FILTER (WHERE kind = 'hot') AS hot
    FROM billing_norm WHERE valid_from <= %(month)s
      AND COALESCE(valid_to, 'infinity'::date) >= %(month)s
),
lines AS (
    SELECT a.id AS account_id, a.tariff_category, s.service,
           COALESCE(v.cold, n.cold * a.residents)
           + CASE WHEN s.service = 'sewage'
                  THEN COALESCE(v.hot, CASE WHEN a.hot_water THEN n.hot * a.residents ELSE 0 END)
                  ELSE 0 END AS volume
    FROM accounts_personalaccount a
    CROSS JOIN norms n
    LEFT JOIN volumes v ON v.account_id = a.id
    JOIN (VALUES ('water_supply'), ('sewage')) AS s(service)
      ON (s.service = 'water_supply' AND a.water_supply) OR (s.service = 'sewage' AND a.sewage)
    WHERE a.opened_on <= %(last_day)s AND (a.closed_on IS NULL OR a.closed_on >= %(month)s)
)
SELECT l.account_id, l.service, l.volume, round(l.volume * t.price, 2) AS amount
FROM lines l JOIN billing_tariff t ON t.service = l.service AND t.category = l.tariff_category
     AND t.valid_from <= %(month)s AND COALESCE(t.valid_to, 'infinity'::date) >= %(month)s
"""


def billing_run(city: City) -> tuple[Step, int]:
    """The set-based charges of the measured month (services.book_charges) vs the floor.
    Returns the step and the run's id (the penalty step books into the same run)."""
    period = _period(city)
    params = {"month": city.month, "last_day": month_end(city.month)}
    with transaction.atomic():
        with timed() as floor:
            _sql(_FLOOR_CHARGES, params)
        floor_rows, floor_total = _sql("SELECT count(*), sum(amount) FROM bench_floor_charges")[0]
    run = BillingRun.objects.create(period=period, status=BillingRun.Status.RUNNING)
    BillingRun.objects.filter(pk=run.pk).update(started_at=clock.now(), step="Начисления")
    with PeakMemory() as memory, timed() as took:
        totals = services.book_charges(run_id=run.pk)
    rows = LedgerEntry.objects.filter(run=run).count()
    volumes = MeterVolume.objects.filter(run=run).count()
    return Step(
        name="Billing run (charges of the month)",
        seconds=took[0],
        floor="one INSERT ... SELECT of the month's charges",
        floor_seconds=floor[0],
        peak_mib=memory.peak_mib,
        growth_mib=memory.growth_mib,
        items=totals.accounts,
        unit="accounts",
        notes={
            "ledger rows": f"{rows} (charges and adjustments), {volumes} volumes",
            "charged": f"{totals.charged} ₽, adjustments {totals.adjusted} ₽",
            "floor": f"{floor_rows} rows, {floor_total} ₽ (readings and norms only)",
        },
    ), run.pk


# --- 2. The penalty run ---

# The floor: one aggregate over the same principal rows of the same accounts.
_FLOOR_PENALTIES = """
SELECT e.account_id,
       sum(e.amount * GREATEST(%(as_of)s - e.booked_on - 30, 0)) * 16.5 / 100 / 300
FROM billing_ledgerentry e
WHERE e.account_id = ANY(%(ids)s) AND e.booked_on <= %(as_of)s
  AND e.kind IN ('charge', 'adjustment', 'payment')
GROUP BY e.account_id
"""


PENALTY_WORKERS = 2  # worker processes of the penalty run (docs/architecture.md §11)


def penalty_run(city: City, run_id: int, *, workers: int = PENALTY_WORKERS) -> Step:
    """Penalties of every account that owes vs the floor, booked as a worker's run books
    them: Celery tasks (services.start_penalty_tasks) on `workers` worker processes, the
    last of which marks the run done. With `workers=0`, in this process, one step after
    another (services.book_penalties), and the run is marked done here."""
    as_of = month_end(city.month)
    ids = [  # the same accounts, a range at a time (the whole ledger at once sorts on disk)
        account_id
        for accounts in selectors.account_ranges(size=services.PENALTY_RANGE)
        for account_id in selectors.principal_debtor_ids(as_of=as_of, accounts=accounts)
    ]
    with timed() as floor:
        floor_rows = len(_sql(_FLOOR_PENALTIES, {"as_of": as_of, "ids": ids}))
    BillingRun.objects.filter(pk=run_id).update(step="Пени")
    if workers:
        with celery_workers(workers) as pids, PeakMemory(pids) as memory, timed() as took:
            services.start_penalty_tasks(run_id=run_id)
            while BillingRun.objects.get(pk=run_id).status == BillingRun.Status.RUNNING:
                time.sleep(0.05)
    else:
        with PeakMemory() as memory, timed() as took:
            services.book_penalties(run_id=run_id)
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.DONE, finished_at=clock.now(), step="Готово"
        )
    run = BillingRun.objects.get(pk=run_id)
    if run.status != BillingRun.Status.DONE:
        raise RuntimeError(f"the penalty run failed: {run.error}")
    booked = LedgerEntry.objects.filter(run_id=run_id, kind=LedgerEntry.Kind.PENALTY).count()
    overdue = _sql(
        "SELECT count(DISTINCT account_id) FROM billing_ledgerentry "
        "WHERE run_id = %s AND kind = 'penalty' AND amount > 0",
        [run_id],
    )[0][0]
    how = f"{workers} worker processes" if workers else "one process"
    return Step(
        name="Penalty run (every account that owes)",
        seconds=took[0],
        floor="one SQL aggregate over the same ledger rows",
        floor_seconds=floor[0],
        peak_mib=memory.peak_mib,
        growth_mib=memory.growth_mib,
        items=run.debtors,
        unit="accounts",
        notes={
            "penalties": f"{run.penalties} ₽ in {booked} entries ({overdue} accounts with "
            f"new penalties), {how}",
            "floor": f"{floor_rows} accounts aggregated",
        },
    )


@contextmanager
def celery_workers(processes: int) -> Iterator[Callable[[], list[int]]]:
    """A Celery worker of `processes` processes on the bench's database and a queue of its
    own (the tasks it queues go there too), ready when the block starts; stopped (this
    process's child only) on exit. Gives the function that lists its processes."""
    from vodokanal.celery import app

    queue = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    node = f"{queue}@bench"
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "vodokanal.bench.settings"
    env["DATABASE_URL"] = database_url()
    env["SECRET_KEY"] = settings.SECRET_KEY
    start = f"from vodokanal.celery import app; app.conf.task_default_queue = {queue!r}; "
    start += "import sys; app.worker_main(sys.argv[1:])"
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", start, "worker", "--queues", queue, "--hostname", node,
         "--concurrency", str(processes), "--pool", "prefork", "--loglevel", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,  # the banner; warnings and errors go to stderr
    )  # fmt: skip
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench's Celery worker did not start (see its output)")
        yield _tree(worker)
    finally:
        app.conf.task_default_queue = default_queue
        _stop(worker, timeout=60)


# --- 3. Documents: receipts and notices ---

FIXED_DOCUMENT = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 15mm } body { font-family: sans-serif; font-size: 10pt }
table { border-collapse: collapse; width: 100% } td, th { border: 1px solid #000; padding: 2mm }
</style></head><body><h1>Квитанция</h1><p>Лицевой счёт 2300000018, г. Краснодар, ул. Красная,
д. 1, кв. 1. За октябрь 2026 г.</p><table><tr><th>Услуга</th><th>Объём</th><th>Тариф</th>
<th>Сумма</th></tr><tr><td>Холодное водоснабжение</td><td>7,000</td><td>55,10</td>
<td>385,70</td></tr><tr><td>Водоотведение</td><td>7,000</td><td>43,50</td><td>304,50</td></tr>
</table><p>Итого к оплате: 690,20 ₽</p></body></html>"""


def _pages(data: bytes) -> int:
    """Pages of a PDF (WeasyPrint compresses its objects: read the page tree)."""
    return len(PdfReader(io.BytesIO(data)).pages)


def document_floor(count: int) -> tuple[float, float]:
    """Seconds for `count` bare one-page renders of a fixed document, and pages per second."""
    HTML(string=FIXED_DOCUMENT).write_pdf()  # fonts and styles loaded once, as in a worker
    with timed() as took:
        pages = sum(_pages(HTML(string=FIXED_DOCUMENT).write_pdf()) for _ in range(count))
    return took[0], pages / took[0]


def receipts(
    city: City, *, batch_size: int, singles: int, floor: tuple[float, float]
) -> list[Step]:
    """The month's receipts (ЕПД): one by one (services.receipt_for, as the cabinet asks for
    one) and as a batch with its print file (services.render_receipt_batch, as a worker)."""
    period = _period(city)
    count = min(batch_size + singles, city.accounts)
    ids = _spread(count)
    batch_ids, single_ids = ids[:batch_size], ids[batch_size:]
    due = selectors.amounts_due(period=period)
    batch = ReceiptBatch.objects.create(period=period, number=_next_batch_number(period))
    Receipt.objects.bulk_create(
        Receipt(account_id=pk, period=period, batch=batch, total_due=max(due.get(pk, 0), 0))
        for pk in batch_ids
    )
    accounts = PersonalAccount.objects.select_related("subscriber").in_bulk(single_ids)
    steps = []
    with PeakMemory() as memory, timed() as took:
        pages = 0
        for pk in single_ids:
            receipt = services.receipt_for(account=accounts[pk], period=period)
            with receipt.pdf.open("rb") as file:
                pages += _pages(file.read())
    if single_ids:
        steps.append(
            _document_step("Receipts, one at a time (per worker)", took[0], pages, memory, floor)
        )
    with PeakMemory() as memory, timed() as took:
        services.render_receipt_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    with batch.print_file.open("rb") as file:
        pages = _pages(file.read())
    steps.append(
        _document_step(
            f"Receipts, a batch of {len(batch_ids)} with its print file (per worker)",
            took[0],
            pages,
            memory,
            floor,
        )
    )
    return steps


def notices(city: City, *, batch_size: int, singles: int, floor: tuple[float, float]) -> list[Step]:
    """Notices of debt to the largest debtors (the longest notices): one by one
    (documents.render_document) and as a batch with its print file (batches.render_batch).
    The e-mails they queue are not sent."""
    count = batch_size + singles
    period = _period(city)
    on = month_end(city.month) + timedelta(days=20)  # after the due date of the month
    owing = selectors.accounts_owing(on=on)
    overdue = selectors.overdue_by_account(owing[: count * 20], on=on)
    chosen = sorted(overdue, key=lambda pk: -overdue[pk].debt)[:count]
    if not chosen:
        return []
    alone = set(chosen[: min(singles, len(chosen) // 2)] or chosen[:1])
    batch = DocumentBatch.objects.create(kind=DebtDocument.Kind.NOTICE, period=period)
    documents_made = []
    for account_id in chosen:
        row = overdue[account_id]
        case = DebtCase.objects.create(
            account_id=account_id,
            stage="notified",
            opened_on=on,
            debt=row.debt,
            overdue_since=row.since,
            months_overdue=row.months,
        )
        figures = debtor_selectors.case_figures(case, on=on)
        document = DebtDocument.objects.create(
            case=case,
            kind=DebtDocument.Kind.NOTICE,
            period=period,
            issued_on=on,
            debt=figures.debt,
            penalty=figures.penalty,
            data=figures.as_json(),
            batch=None if account_id in alone else batch,
        )
        document.number = f"{on:%y%m}-{document.pk}"
        document.save(update_fields=["number"])
        documents_made.append(document)
    steps = []
    with mock.patch.object(batch_tasks.email_document, "delay_on_commit"):
        single_docs = [d for d in documents_made if d.batch_id is None]
        with PeakMemory() as memory, timed() as took:
            for document in single_docs:
                documents.render_document(document_id=document.pk)
        pages = 0
        for document in DebtDocument.objects.filter(pk__in=[d.pk for d in single_docs]):
            with document.pdf.open("rb") as file:
                pages += _pages(file.read())
        steps.append(
            _document_step(
                "Notices of debt, one at a time (per worker)", took[0], pages, memory, floor
            )
        )
        with PeakMemory() as memory, timed() as took:
            batches.render_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    with batch.print_file.open("rb") as file:
        pages = _pages(file.read())
    steps.append(
        _document_step(
            f"Notices of debt, a batch of {len(chosen) - len(alone)} with its print file "
            "(per worker)",
            took[0],
            pages,
            memory,
            floor,
        )
    )
    return steps


def _document_step(
    name: str, seconds: float, pages: int, memory: PeakMemory, floor: tuple[float, float]
) -> Step:
    floor_seconds_per_page = 1 / floor[1]
    return Step(
        name=name,
        seconds=seconds,
        floor="bare one-page WeasyPrint render of a fixed document",
        floor_seconds=floor_seconds_per_page * pages,
        peak_mib=memory.peak_mib,
        growth_mib=memory.growth_mib,
        items=pages,
        unit="pages",
        notes={"floor": f"{floor[1]:.1f} pages/s"},
    )


def _next_batch_number(period: Period) -> int:
    last = period.receipt_batches.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _spread(count: int) -> list[int]:
    """`count` account ids spread evenly over the city."""
    ids = list(PersonalAccount.objects.order_by("pk").values_list("pk", flat=True))
    if count >= len(ids):
        return ids
    step = len(ids) / count
    return [ids[int(i * step)] for i in range(count)]


# --- 4. The bank registry ---


def registry_file(city: City, *, lines: int, nonce: str) -> bytes:
    """A Sberbank registry of one day of the measured month: `lines` payments, 1 % to
    unknown accounts, about one in ten carrying a reading (new for a meter silent this
    month, else the value already accepted), and the summary line."""
    paid_on = city.month.replace(day=20)
    ids = _spread(lines)
    rows = _sql(
        """
        SELECT a.id, a.number, s.name, a.address, m.serial, r.value,
               (SELECT r2.value FROM meters_meterreading r2
                WHERE r2.meter_id = m.id AND r2.status = 'accepted'
                ORDER BY r2.period DESC LIMIT 1)
        FROM accounts_personalaccount a
        JOIN accounts_subscriber s ON s.id = a.subscriber_id
        LEFT JOIN LATERAL (SELECT * FROM meters_meter m WHERE m.account_id = a.id
                           AND m.state = 'working' ORDER BY m.id LIMIT 1) m ON true
        LEFT JOIN meters_meterreading r ON r.meter_id = m.id AND r.period = %s
             AND r.status = 'accepted'
        WHERE a.id = ANY(%s) ORDER BY a.id
        """,
        [city.month, ids],
    )
    body = []
    total = Decimal("0.00")
    for index, (_, number, payer, address, serial, this_month, last_value) in enumerate(rows):
        if index % 100 == 99:
            number = "2300000000"  # not a valid number: an unidentified payment
        amount = Decimal(300 + (index * 37) % 2700) + Decimal(index % 100) / 100
        total += amount
        line = (
            f"{paid_on:%d-%m-%Y};{index // 3600 % 10 + 9:02d}-{index // 60 % 60:02d}-"
            f"{index % 60:02d};8619;8619/0123;{nonce}{index:07d};{number};{payer.upper()};"
            f"{address.upper()};{add_month_text(city.month, -1)};{amount:.2f};{amount:.2f};0.00"
        )
        if serial and index % 10 == 0:
            value = this_month if this_month is not None else (last_value or 0) + Decimal(5)
            line += f";{serial}:{value:.3f}"
        body.append(line)
    body.append(f"={len(body)};{total:.2f};{total:.2f};0.00;{nonce};{paid_on:%d-%m-%Y}")
    return ("\r\n".join(body) + "\r\n").encode("cp1251")


def add_month_text(month: date, count: int) -> str:
    from vodokanal.common.months import add_months

    return f"{add_months(month, count):%m%Y}"


def registry_import(city: City, *, lines: int) -> Step:
    """A bank registry through billing.payments.registries.services.import_registry vs COPY of its lines."""
    agent = PaymentAgent.objects.get(code="sberbank")
    nonce = f"{int(time.time()) % 100000:05d}"
    data = registry_file(city, lines=lines, nonce=nonce)
    with transaction.atomic(), timed() as floor:
        text = data.decode(agent.encoding)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_floor_registry (paid_on text, paid_at text, "
                "branch text, office text, operation text, account text, payer text, "
                "address text, period text, amount text, transferred text, commission "
                "text, readings text) ON COMMIT DROP"
            )
            cursor.cursor.copy_expert(
                "COPY bench_floor_registry FROM STDIN WITH (FORMAT csv, DELIMITER ';')",
                _padded(text, 13),
            )
    with PeakMemory() as memory, timed() as took:
        registry = import_registry(agent=agent, data=data, file_name=f"bench-{nonce}.txt")
    return Step(
        name=f"Bank registry import, {registry.lines} lines",
        seconds=took[0],
        floor="COPY of the same lines into a scratch table",
        floor_seconds=floor[0],
        peak_mib=memory.peak_mib,
        growth_mib=memory.growth_mib,
        items=registry.lines,
        unit="lines",
        notes={
            "result": f"{registry.booked} booked, {registry.unidentified} unidentified, "
            f"{registry.readings} readings accepted",
        },
    )


def _padded(text: str, fields: int) -> "StringFile":
    rows = []
    for line in text.splitlines():
        if not line or line.startswith("="):
            continue
        parts = line.split(";")
        parts = [*parts[: fields - 1], ",".join(parts[fields - 1 :])]
        parts += [""] * (fields - len(parts))
        rows.append(";".join(parts))
    return StringFile("\n".join(rows) + "\n")


class StringFile:
    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0

    def read(self, size: int = -1) -> str:
        end = len(self._text) if size < 0 else self._at + size
        chunk = self._text[self._at : end]
        self._at += len(chunk)
        return chunk

    readline = read


# --- 5. The cabinet under load ---

PAGES = (
    ("account page", "accounts:account-detail"),
    ("finance page", "billing:finance"),
    ("readings page", "meters:readings"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cabinet_users(city: City, count: int) -> list[tuple[str, str]]:
    """`count` users, each with a confirmed link to one account spread over the city and a
    live session: (account number, session key)."""
    ids = _spread(min(count, city.accounts))
    numbers = dict(PersonalAccount.objects.filter(pk__in=ids).values_list("pk", "number"))
    result = []
    for index, account_id in enumerate(ids):
        user, created = User.objects.get_or_create(
            email=f"bench-{index}@{BENCH_EMAIL_DOMAIN}", defaults={"full_name": f"Бенчмарк {index}"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        AccountLink.objects.update_or_create(
            user=user, account_id=account_id, defaults={"confirmed_at": clock.now()}
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        result.append((numbers[account_id], session.session_key))
    return result


@contextmanager
def web_server(*, workers: int, threads: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """gunicorn with the bench's settings (the site plus /bench/trivial/, DEBUG off) on a
    free port of 127.0.0.1; stopped (this process's child only) on exit."""
    port = _free_port()
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "vodokanal.bench.settings"
    env["DATABASE_URL"] = database_url()
    env["SECRET_KEY"] = settings.SECRET_KEY  # the sessions the bench made are signed with it
    server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "vodokanal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError("the bench's web server did not start (see its output)")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield base, server
    finally:
        _stop(server, timeout=20)


def database_url() -> str:
    """The URL of the database the bench uses, for the processes it starts."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _tree(process: subprocess.Popen) -> Callable[[], list[int]]:
    def pids() -> list[int]:
        try:
            parent = psutil.Process(process.pid)
            return [parent.pid] + [child.pid for child in parent.children(recursive=True)]
        except psutil.Error:
            return []

    return pids


def cabinet_load(
    city: City,
    *,
    users: int,
    duration: float,
    workers: int,
    threads: int,
    log: Callable[[str], None],
) -> list[LoadResult]:
    """Each cabinet page and the trivial view under `users` concurrent users from a second
    process (vodokanal.bench.load): paced (1-2 s between a user's requests, as people
    click) for latency, then saturated (no pause) for capacity."""
    sessions = cabinet_users(city, users)
    results = []
    with web_server(workers=workers, threads=threads) as (base, server):
        targets = [("trivial view (floor)", ["/bench/trivial/"] * len(sessions))]
        targets += [
            (name, [reverse(url, args=[number]) for number, _ in sessions]) for name, url in PAGES
        ]
        # Warm-up, not counted: every worker loads its code, templates and connections.
        _run_load(
            base,
            [path for _, paths in targets for path in paths],
            [key for _, key in sessions] * len(targets),
            users=users,
            duration=5.0,
            think=(0.0, 0.0),
        )
        for think in ("1-2 s", "none"):
            for name, paths in targets:
                log(f"  load: {name}, {users} users, pause {think}")
                with PeakMemory(_tree(server)) as memory:
                    stats = _run_load(
                        base,
                        paths,
                        [key for _, key in sessions],
                        users=users,
                        duration=duration,
                        think=(1.0, 2.0) if think != "none" else (0.0, 0.0),
                    )
                results.append(
                    LoadResult(
                        page=name,
                        users=users,
                        think=think,
                        requests=stats["requests"],
                        errors=stats["errors"],
                        rps=stats["rps"],
                        p50=stats["p50"],
                        p95=stats["p95"],
                        p99=stats["p99"],
                        server_peak_mib=memory.peak_mib,
                        failures=stats["failures"],
                    )
                )
    return results


def _run_load(
    base: str,
    paths: list[str],
    sessions: list[str],
    *,
    users: int,
    duration: float,
    think: tuple[float, float],
) -> dict:
    import json

    plan = Path(tempfile.mkstemp(prefix="bench-load-", suffix=".json")[1])
    try:
        plan.write_text(
            json.dumps(
                {
                    "base": base,
                    "cookie": settings.SESSION_COOKIE_NAME,
                    "users": [
                        {"path": paths[i % len(paths)], "session": sessions[i % len(sessions)]}
                        for i in range(users)
                    ],
                    "duration": duration,
                    "warmup": min(3.0, duration / 4),
                    "think": list(think),
                }
            )
        )
        finished = subprocess.run(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-m", "vodokanal.bench.load", str(plan)],
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
            timeout=duration + 120,
        )
        return json.loads(finished.stdout)
    finally:
        plan.unlink(missing_ok=True)


@contextmanager
def scratch_media() -> Iterator[Path]:
    """Documents rendered by the bench go to a temporary MEDIA_ROOT, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="bench-media-"))
    try:
        with override_settings(MEDIA_ROOT=root):
            yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _stop(process: subprocess.Popen, *, timeout: float) -> None:
    """Stop a process the bench started: politely, then for good."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
