"""The bench's report: the machine, the table of steps with their ratios to the floors, the
targets of docs/architecture.md §11 (results: BENCHMARKS.md) met or missed, and the results block of BENCHMARKS.md.

BENCHMARKS.md keeps what people wrote around the blocks between the markers below, one
block for each city size: a run replaces the block of its N (or adds it after the others,
or writes a new file with it).
"""

import os
import platform
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import django
import weasyprint
from django.db import connection
from django.utils import timezone

from vodokanal.bench.city import City
from vodokanal.bench.measure import LoadResult, Step
from vodokanal.common import clock

BEGIN = "<!-- bench:results N={accounts} -->"
END = "<!-- /bench:results N={accounts} -->"
SCALE = 1_000_000  # docs/architecture.md §11 (results: BENCHMARKS.md) for the billing and penalty targets
REGISTRY_LINES = 100_000


@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    value: str
    met: bool | None  # None: not measured in this run
    how: str  # measured, or projected from N and how


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("MemTotal"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        tuning = []
        for setting in ("shared_buffers", "work_mem", "max_wal_size"):
            cursor.execute(f"SHOW {setting}")
            tuning.append(f"{setting} {cursor.fetchone()[0]}")
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": memory,
        "PostgreSQL": postgres,
        "PostgreSQL settings": ", ".join(tuning),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "WeasyPrint": weasyprint.__version__,
    }


def targets(city: City, steps: dict[str, Step], load: list[LoadResult]) -> list[Target]:
    """The targets of docs/architecture.md §11 (results: BENCHMARKS.md), from the measured figures; billing, penalties and the
    registry are projected linearly to docs/architecture.md §11 (results: BENCHMARKS.md) when the city is smaller."""
    result = []
    scale = SCALE / city.accounts
    projected = "measured" if scale == 1 else f"projected ×{scale:g} from N = {city.accounts}"
    if billing := steps.get("billing"):
        seconds = billing.seconds * scale
        result.append(
            Target(
                "billing run, 1,000,000 accounts",
                "< 300 s",
                f"{seconds:.0f} s",
                seconds < 300,
                projected,
            )
        )
    if penalties := steps.get("penalties"):
        seconds = penalties.seconds * scale
        result.append(
            Target(
                "penalties, 1,000,000 accounts",
                "< 120 s",
                f"{seconds:.0f} s",
                seconds < 120,
                projected,
            )
        )
    for key, what in (("receipts", "receipts"), ("notices", "notices")):
        if step := steps.get(f"{key}_batch"):
            result.append(
                Target(
                    f"{what} in batches, per worker process",
                    ">= 20 pages/s",
                    f"{step.rate:.1f} pages/s",
                    step.rate >= 20,
                    "measured",
                )
            )
    if registry := steps.get("registry"):
        seconds = registry.seconds * REGISTRY_LINES / registry.items
        how = (
            "measured"
            if registry.items == REGISTRY_LINES
            else f"projected ×{REGISTRY_LINES / registry.items:g} from {registry.items} lines"
        )
        result.append(
            Target(
                "registry import, 100,000 lines", "< 20 s", f"{seconds:.1f} s", seconds < 20, how
            )
        )
    paced = [row for row in load if row.page == "account page" and row.think != "none"]
    if paced:
        row = paced[0]
        result.append(
            Target(
                f"account page p95, {row.users} concurrent users",
                "< 100 ms",
                f"{row.p95:.0f} ms",
                row.p95 < 100,
                f"measured (pause {row.think})",
            )
        )
    return result


def _mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[met]


def _table(headings: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join("---" for _ in headings) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(
    *,
    city: City,
    steps: dict[str, Step],
    load: list[LoadResult],
    total_seconds: float,
    when: datetime | None = None,
) -> str:
    """The results block as Markdown (also what the command prints)."""
    when = when or timezone.localtime(clock.now())
    lines = [
        BEGIN.format(accounts=city.accounts),
        f"## Latest run: N = {city.accounts:,} accounts".replace(",", " "),
        "",
        f"Run {when:%Y-%m-%d %H:%M} (Moscow), measured month {city.month:%m.%Y}; the city was "
        + (
            f"reused (built in {city.build_seconds:.0f} s)"
            if city.reused
            else f"built in {city.build_seconds:.0f} s"
        )
        + f"; the whole bench took {total_seconds:.0f} s.",
        "",
    ]
    lines += _table(["machine", ""], [[key, value] for key, value in machine().items()])
    rows = ", ".join(f"{name} {count:,}".replace(",", " ") for name, count in city.rows.items())
    lines += ["", f"Rows: {rows}.", "", "### Steps", ""]
    step_rows = [
        [
            step.name,
            f"{step.items:,} {step.unit}".replace(",", " "),
            f"{step.seconds:.2f}",
            f"{step.rate:,.0f} {step.unit}/s".replace(",", " ")
            if step.rate >= 100
            else f"{step.rate:.1f} {step.unit}/s",
            f"{step.floor_seconds:.3f}",
            f"{step.ratio:.1f}",
            f"{step.peak_mib:.0f} (+{step.growth_mib:.0f})",
        ]
        for step in steps.values()
    ]
    lines += _table(
        ["step", "size", "time, s", "rate", "floor, s", "× floor", "peak RSS (added), MiB"],
        step_rows,
    )
    lines += ["", "Floors:"]
    seen = set()
    for step in steps.values():
        if step.floor not in seen:
            seen.add(step.floor)
            lines.append(f"- {step.name}: {step.floor}.")
    notes = [f"- {step.name}: {k} {v}." for step in steps.values() for k, v in step.notes.items()]
    if notes:
        lines += ["", "Details:", *notes]
    if load:
        floors = {row.think: row for row in load if row.page.startswith("trivial")}
        lines += ["", "### Cabinet pages under load", ""]
        load_rows = []
        for row in load:
            floor = floors.get(row.think)
            load_rows.append(
                [
                    row.page,
                    str(row.users),
                    row.think,
                    str(row.requests),
                    str(row.errors),
                    f"{row.rps:.1f}",
                    f"{row.p50:.0f}",
                    f"{row.p95:.0f}",
                    f"{row.p99:.0f}",
                    f"{row.p95 / floor.p95:.1f}" if floor and floor.p95 else "—",
                    f"{floor.rps / row.rps:.1f}" if floor and row.rps else "—",
                    f"{row.server_peak_mib:.0f}",
                ]
            )
        lines += _table(
            [
                "page",
                "users",
                "pause",
                "requests",
                "errors",
                "req/s",
                "p50, ms",
                "p95, ms",
                "p99, ms",
                "p95 × floor",
                "floor req/s ÷ req/s",
                "server peak RSS, MiB",
            ],
            load_rows,
        )
    lines += ["", "### Targets of docs/architecture.md §11 (results: BENCHMARKS.md)", ""]
    lines += _table(
        ["target", "goal", "result", "", "how"],
        [[t.what, t.goal, t.value, _mark(t.met), t.how] for t in targets(city, steps, load)],
    )
    lines.append(END.format(accounts=city.accounts))
    return "\n".join(lines) + "\n"


HEADER = """# Benchmarks

`make bench` (or `python manage.py bench --accounts N`) builds a city of N accounts and
measures the monthly cycle against floors measured on the same data (docs/architecture.md §11 (results: BENCHMARKS.md)). Each city
size has its block, rewritten by every run of that size; the notes around them are kept.

"""


def write(path: Path, block: str, *, accounts: int) -> None:
    """Replace the results block of this city size in `path`, add it after the last
    block, or create the file with it."""
    begin, end = BEGIN.format(accounts=accounts), END.format(accounts=accounts)
    if not path.exists():
        path.write_text(HEADER + block, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    block = block.rstrip("\n")
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        last_end = text.rfind("<!-- /bench:results")
        if last_end == -1:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        else:
            cut = text.index("-->", last_end) + 3
            text = text[:cut] + "\n\n" + block + text[cut:]
    path.write_text(text, encoding="utf-8")
