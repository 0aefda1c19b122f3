"""The penalties of a worker's billing run, spread over Celery tasks (one per range of
accounts, one per chunk of debtors), on a real worker (Redis broker, a private queue):
the same ledger and run totals as the run in one process, whatever the chunks, a chunk
that fails once retried without booking twice, and a chunk that keeps failing fails the
run."""

import time
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import OperationalError

from billing import selectors, services
from billing.models import BillingRun, LedgerEntry, Period
from tests.billing.conftest import ledger_rows
from vodokanal.bench import city as bench_city

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOTALS = ("status", "accounts", "charged", "adjusted", "penalties", "debtors", "debtors_done")


@pytest.fixture
def small_city(legal_data, payment_agents):
    built = bench_city.ensure_city(accounts=300, fresh=True, log=lambda message: None)
    yield built
    bench_city.wipe()


@pytest.fixture
def worker():
    """A Celery worker in this process on a queue of its own; the run's tasks queue the
    next ones on the same queue."""
    from celery.contrib.testing.worker import start_worker

    from vodokanal.celery import app

    queue = f"test-penalties-{uuid.uuid4().hex}"
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            yield
    finally:
        app.conf.task_default_queue = "celery"


def run_in_one_process(period: Period) -> BillingRun:
    run = BillingRun.objects.create(period=period)
    return services.run_billing(run_id=run.pk)


def run_by_the_worker(period: Period) -> BillingRun:
    run = BillingRun.objects.create(period=period)
    services.run_billing(run_id=run.pk, penalties_in_tasks=True)
    deadline = time.monotonic() + 120
    while BillingRun.objects.get(pk=run.pk).status == BillingRun.Status.RUNNING:
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.2)
    return BillingRun.objects.get(pk=run.pk)


def totals(run: BillingRun) -> tuple:
    return tuple(getattr(run, name) for name in TOTALS)


@pytest.mark.usefixtures("worker")
def test_the_workers_tasks_book_what_one_process_books(small_city, monkeypatch):
    period = Period.objects.get(month=small_city.month)
    alone = run_in_one_process(period)
    ledger = ledger_rows()
    assert alone.status == BillingRun.Status.DONE
    assert alone.debtors > 10
    assert alone.penalties > Decimal("0.00")

    # Ranges of 45 accounts, chunks of 4 debtors: many tasks of each kind. The first
    # chunk fails once (a lost connection), after its delete, and is retried.
    monkeypatch.setattr(services, "PENALTY_RANGE", 45)
    monkeypatch.setattr(services, "PENALTY_CHUNK", 4)
    booked_penalties = selectors.booked_penalties
    failures = []

    def fails_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise OperationalError("connection lost")
        return booked_penalties(*args, **kwargs)

    monkeypatch.setattr(selectors, "booked_penalties", fails_once)
    spread = run_by_the_worker(period)

    assert failures
    assert totals(spread) == totals(alone)
    assert ledger_rows() == ledger
    # Every penalty of the period is the second run's: its chunks replaced the first's.
    penalties = LedgerEntry.objects.filter(period=period, kind="penalty")
    assert set(penalties.values_list("run_id", flat=True)) == {spread.pk}


def test_a_chunk_booked_again_books_nothing_twice(small_city):
    period = Period.objects.get(month=small_city.month)
    run = BillingRun.objects.create(period=period, status=BillingRun.Status.RUNNING)
    services.book_charges(run_id=run.pk)
    debtors = [
        account_id
        for accounts in selectors.account_ranges(size=services.PENALTY_RANGE)
        for account_id in services.find_penalty_debtors(run_id=run.pk, accounts=accounts)
    ]
    first, *rest = services.start_penalty_chunks(run_id=run.pk, account_ids=debtors)

    booked = services.book_penalty_chunk(run_id=run.pk, account_ids=first)
    ledger = ledger_rows()
    # Run again, as a worker does when it was lost after the commit.
    assert services.book_penalty_chunk(run_id=run.pk, account_ids=first) == booked
    assert ledger_rows() == ledger
    run.refresh_from_db()
    assert run.debtors_done <= run.debtors

    for account_ids in rest:
        services.book_penalty_chunk(run_id=run.pk, account_ids=account_ids)
    assert services.settle_penalties(run_id=run.pk) == sum(
        LedgerEntry.objects.filter(run=run, kind="penalty").values_list("amount", flat=True),
        Decimal("0.00"),
    )
    run.refresh_from_db()
    assert run.debtors_done == run.debtors == len(debtors)


@pytest.mark.usefixtures("worker")
def test_a_chunk_that_keeps_failing_fails_the_run(small_city, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "booked_penalties", broken)

    run = run_by_the_worker(Period.objects.get(month=small_city.month))

    assert run.status == BillingRun.Status.FAILED
    assert run.error == "Внутренняя ошибка расчёта; подробности в журнале."


@pytest.mark.usefixtures("worker", "legal_data", "rates")
def test_a_run_without_debtors_is_done_by_the_worker(account):
    run = run_by_the_worker(services.ensure_period(date(2025, 1, 1)))

    assert (run.status, run.debtors, run.penalties) == ("done", 0, Decimal("0.00"))
