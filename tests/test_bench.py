"""The bench cannot rot: a city of 300 accounts, the billing and penalty runs and a small
registry against their floors, the report, and the load generator against a live server
(docs/architecture.md §11 (results: BENCHMARKS.md); the real figures come from `make bench`)."""

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import PersonalAccount, Subscriber
from accounts.validators import is_valid_account_number
from billing.models import BillingRun, LedgerEntry, Payment, Period
from vodokanal.bench import city as bench_city
from vodokanal.bench import measure, report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_city(legal_data, payment_agents):
    built = bench_city.ensure_city(accounts=300, fresh=True, log=lambda message: None)
    yield built
    bench_city.wipe()


def test_the_city_is_a_year_of_a_small_town(small_city):
    assert not small_city.reused
    accounts = PersonalAccount.objects.all()
    assert accounts.count() == 300
    assert all(
        is_valid_account_number(number) for number in accounts.values_list("number", flat=True)
    )
    assert Subscriber.objects.exclude(kind=Subscriber.Kind.INDIVIDUAL).exists()
    periods = Period.objects.order_by("month")
    assert [p.status for p in periods] == ["closed"] * 12 + ["open"]
    assert periods.last().month == small_city.month
    # A year of charges and payments; some accounts owe more than a month.
    assert LedgerEntry.objects.filter(kind="charge").count() > 300 * 12
    assert Payment.objects.count() > 300 * 10
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT account_id FROM billing_ledgerentry "
            "GROUP BY account_id HAVING sum(amount) > 1000) owing"
        )
        assert cursor.fetchone()[0] > 0
    again = bench_city.ensure_city(accounts=300, log=lambda message: None)
    assert again.reused


def test_runs_and_registry_are_measured_against_their_floors(small_city):
    measure.reset(small_city)
    billing, run_id = measure.billing_run(small_city)
    assert billing.items == 300
    assert billing.seconds > 0
    assert billing.floor_seconds > 0
    assert BillingRun.objects.get(pk=run_id).charged > Decimal(0)
    penalties = measure.penalty_run(small_city, run_id)
    assert BillingRun.objects.get(pk=run_id).status == BillingRun.Status.DONE
    registry = measure.registry_import(small_city, lines=50)
    assert registry.items == 50
    assert "booked" in registry.notes["result"]
    # A second bench run on the same city measures the same work.
    measure.reset(small_city)
    assert not Payment.objects.filter(registry__isnull=False).exists()

    block = report.render(
        city=small_city,
        steps={"billing": billing, "penalties": penalties, "registry": registry},
        load=[],
        total_seconds=1.0,
    )
    assert block.startswith(report.BEGIN.format(accounts=300))
    assert "| Billing run (charges of the month) | 300 accounts |" in block
    assert "registry import, 100,000 lines" in block


def _block(accounts: int, body: str) -> str:
    begin, end = report.BEGIN.format(accounts=accounts), report.END.format(accounts=accounts)
    return f"{begin}\n{body}\n{end}\n"


def test_report_replaces_only_the_block_of_its_city_size(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(
        f"# Notes\n\nkept\n\n{_block(100_000, 'old small')}\n{_block(1_000_000, 'old big')}"
        "\nalso kept\n"
    )
    report.write(path, _block(100_000, "new small"), accounts=100_000)
    text = path.read_text()
    assert "kept" in text
    assert "also kept" in text
    assert "new small" in text
    assert "old small" not in text
    assert "old big" in text  # another size's block stays


def test_report_adds_a_new_city_size_after_the_other_blocks(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# Notes\n\n{_block(100_000, 'small')}\n## What the profiles showed\n")
    report.write(path, _block(1_000_000, "big"), accounts=1_000_000)
    text = path.read_text()
    assert text.index("small") < text.index("big") < text.index("## What the profiles showed")


def test_load_generator_measures_a_live_page(live_server, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "base": live_server.url,
                "cookie": "sessionid",
                "users": [{"path": "/", "session": ""}] * 2,
                "duration": 1.5,
                "warmup": 0.2,
                "think": [0.0, 0.0],
            }
        )
    )
    finished = subprocess.run(
        [sys.executable, "-m", "vodokanal.bench.load", str(plan)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(finished.stdout)
    assert result["requests"] > 0
    assert result["errors"] == 0
    assert 0 < result["p50"] <= result["p95"] <= result["p99"]
