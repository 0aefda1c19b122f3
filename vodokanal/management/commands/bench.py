"""`manage.py bench --accounts N`: the benchmark at utility scale (docs/architecture.md §11 (results: BENCHMARKS.md)).

Builds (or reuses) a city of N accounts in its own database, measures the monthly cycle
step by step against floors on the same data, prints the table and rewrites the results
block of BENCHMARKS.md. See vodokanal/bench/.
"""

import time
from pathlib import Path

import psycopg2
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from debtors.batches import DEFAULT_BATCH_SIZE
from vodokanal.bench import city as bench_city
from vodokanal.bench import measure, report

STEPS = ("billing", "penalties", "documents", "registry", "load")


class Command(BaseCommand):
    help = "Build a city of N accounts and measure the monthly cycle against its floors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000, help="city size N")
        parser.add_argument("--fresh", action="store_true", help="rebuild the city")
        parser.add_argument("--seed", type=int, default=8)
        parser.add_argument(
            "--steps", default=",".join(STEPS), help=f"comma-separated, of: {', '.join(STEPS)}"
        )
        parser.add_argument(
            "--database",
            help="database to use (created and migrated when missing); by default the "
            "configured one if its name ends in 'bench', else that name + '_bench'",
        )
        parser.add_argument("--receipts", type=int, default=200, help="receipts in the batch")
        parser.add_argument("--singles", type=int, default=20, help="documents one at a time")
        parser.add_argument(
            "--notices",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="notices in the batch (default: a production batch)",
        )
        parser.add_argument(
            "--registry-lines",
            type=int,
            help="default: N, at most 100000 (docs/architecture.md §11 (results: BENCHMARKS.md))",
        )
        parser.add_argument("--users", type=int, default=50, help="concurrent users")
        parser.add_argument("--duration", type=float, default=20.0, help="seconds per page")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker")
        parser.add_argument(
            "--output", default=str(settings.BASE_DIR / "BENCHMARKS.md"), help="report file"
        )
        parser.add_argument("--no-write", action="store_true", help="print only")

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        steps = [step.strip() for step in str(options["steps"]).split(",") if step.strip()]
        unknown = set(steps) - set(STEPS)
        if unknown:
            raise CommandError(f"unknown steps: {', '.join(sorted(unknown))}")
        accounts = int(options["accounts"])  # type: ignore[call-overload]
        if accounts < 100:
            raise CommandError("--accounts: at least 100")
        # Production conditions: no query log in this process (DEBUG keeps every query).
        settings.DEBUG = False
        self._use_database(options["database"])  # type: ignore[arg-type]
        city = bench_city.ensure_city(
            accounts=accounts,
            fresh=bool(options["fresh"]),
            seed=int(options["seed"]),  # type: ignore[call-overload]
            log=self._log,
        )
        measure.reset(city)
        results: dict[str, measure.Step] = {}
        load: list[measure.LoadResult] = []
        run_id = None
        if "billing" in steps or "penalties" in steps:
            self._log("billing run")
            results["billing"], run_id = measure.billing_run(city)
            self._log(f"  {results['billing'].seconds:.1f} s")
        if "penalties" in steps and run_id is not None:
            self._log("penalty run")
            results["penalties"] = measure.penalty_run(city, run_id)
            self._log(f"  {results['penalties'].seconds:.1f} s")
        if "documents" in steps:
            self._log("documents")
            with measure.scratch_media():
                floor = measure.document_floor(20)
                singles = int(options["singles"])  # type: ignore[call-overload]
                receipts = measure.receipts(
                    city,
                    batch_size=min(int(options["receipts"]), accounts),  # type: ignore[call-overload]
                    singles=singles,
                    floor=floor,
                )
                for step in receipts:
                    key = "receipts_batch" if "batch" in step.name else "receipts_single"
                    results[key] = step
                for step in measure.notices(
                    city,
                    batch_size=int(options["notices"]),  # type: ignore[call-overload]
                    singles=singles,
                    floor=floor,
                ):
                    key = "notices_batch" if "batch" in step.name else "notices_single"
                    results[key] = step
        if "registry" in steps:
            lines = options["registry_lines"] or min(accounts, report.REGISTRY_LINES)
            self._log(f"registry import, {lines} lines")
            results["registry"] = measure.registry_import(city, lines=int(lines))  # type: ignore[call-overload]
            self._log(f"  {results['registry'].seconds:.1f} s")
        if "load" in steps:
            self._log("cabinet pages under load")
            load = measure.cabinet_load(
                city,
                users=int(options["users"]),  # type: ignore[call-overload]
                duration=float(options["duration"]),  # type: ignore[arg-type]
                workers=int(options["workers"]),  # type: ignore[call-overload]
                threads=int(options["threads"]),  # type: ignore[call-overload]
                log=self._log,
            )
        block = report.render(
            city=city, steps=results, load=load, total_seconds=time.perf_counter() - started
        )
        self.stdout.write(block)
        if not options["no_write"]:
            path = Path(str(options["output"]))
            report.write(path, block, accounts=city.accounts)
            self._log(f"written to {path}")

    def _log(self, message: str) -> None:
        self.stderr.write(message)

    def _use_database(self, name: str | None) -> None:
        """Point this process (and the ones it starts) at the bench's own database, so
        that `make bench` never wipes the demo data of `make run`."""
        default = connections["default"]
        current = default.settings_dict["NAME"]
        name = name or (current if current.endswith("bench") else f"{current}_bench")
        if name != current:
            params = default.get_connection_params()
            params["dbname"] = "postgres"
            server = psycopg2.connect(**params)
            server.autocommit = True
            try:
                with server.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                    if cursor.fetchone() is None:
                        cursor.execute(f'CREATE DATABASE "{name}"')
                        self._log(f"database {name} created")
            finally:
                server.close()
            default.close()
            default.settings_dict["NAME"] = name
            settings.DATABASES["default"]["NAME"] = name
        self._log(f"database {name}")
        call_command("migrate", verbosity=0, interactive=False)
