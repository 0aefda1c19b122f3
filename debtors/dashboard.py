"""The debt-collection dashboard for lawyers and accountants (docs/architecture.md §9): open cases by
stage, cases opened and closed by month, the monthly collection rate, and a bar chart of it.

Reads only; every figure is one set-based query, whatever the number of cases.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Coalesce

from debtors.models import FINAL_STAGES, DebtCase, Stage
from vodokanal.common import clock
from vodokanal.common.money import ZERO

MONTHS = 12
MONEY = DecimalField(max_digits=14, decimal_places=2)
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class StageRow:
    stage: str
    label: str
    count: int
    debt: Decimal
    penalty: Decimal


@dataclass(frozen=True)
class MonthRow:
    month: date  # the 1st
    opened: int  # cases opened in the month
    opened_debt: Decimal  # their overdue debt when opened
    closed: int  # closed as paid in the month
    written_off: int
    written_off_debt: Decimal
    debtors: int  # accounts with an open case at the start of the month
    overdue: Decimal  # their overdue principal at the start of the month
    paid: Decimal  # principal they paid in the month
    rate: Decimal | None  # paid / overdue, per cent to 0.1; None when nothing was overdue


@dataclass(frozen=True)
class Bar:
    month: date
    rate: Decimal | None
    x: int
    y: int
    height: int
    center: int  # x of the month's label


@dataclass(frozen=True)
class Chart:
    """Geometry of the inline SVG bar chart of the collection rate (no JS library)."""

    width: int
    height: int
    top: int  # y of the scale's maximum
    base: int  # y of the zero line
    scale: Decimal  # the per cent at `top`
    bar_width: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Dashboard:
    on: date
    stages: tuple[StageRow, ...]
    open_count: int
    open_debt: Decimal
    open_penalty: Decimal
    months: tuple[MonthRow, ...]
    chart: Chart


def dashboard(*, on: date | None = None) -> Dashboard:
    """Everything the dashboard page shows, as of `on` (today in Moscow by default)."""
    on = on or clock.today()
    stages = open_cases_by_stage()
    months = by_month(last=on.replace(day=1))
    return Dashboard(
        on=on,
        stages=stages,
        open_count=sum(row.count for row in stages),
        open_debt=sum((row.debt for row in stages), ZERO),
        open_penalty=sum((row.penalty for row in stages), ZERO),
        months=months,
        chart=rate_chart(months),
    )


def open_cases_by_stage() -> tuple[StageRow, ...]:
    """Count, overdue debt and penalty of the open cases at each stage, in the stages' order;
    stages with no case show zeros."""
    totals = {
        row["stage"]: row
        for row in DebtCase.objects.filter(closed_on__isnull=True)
        .values("stage")
        .annotate(
            count=Count("pk"),
            debt=Coalesce(Sum("debt"), Value(ZERO), output_field=MONEY),
            penalty=Coalesce(Sum("penalty"), Value(ZERO), output_field=MONEY),
        )
        .order_by()
    }
    return tuple(
        StageRow(
            stage=stage.value,
            label=stage.label,
            count=totals.get(stage.value, {}).get("count", 0),
            debt=totals.get(stage.value, {}).get("debt", ZERO),
            penalty=totals.get(stage.value, {}).get("penalty", ZERO),
        )
        for stage in Stage
        if stage not in FINAL_STAGES
    )


# One statement for the twelve months. %(first)s and %(last)s are the first days of the first
# and the last month shown.
BY_MONTH_SQL = """
WITH months AS (
    SELECT generate_series(%(first)s::date, %(last)s::date, interval '1 month')::date AS month
),
opened AS (
    SELECT date_trunc('month', c.opened_on)::date AS month, count(*) AS cases,
           coalesce(sum((
               SELECT ev.debt FROM debtors_caseevent ev
               WHERE ev.case_id = c.id AND ev.from_stage = '' ORDER BY ev.id LIMIT 1
           )), 0) AS debt
    FROM debtors_debtcase c
    WHERE c.opened_on >= %(first)s AND c.opened_on < %(end)s
    GROUP BY 1
),
closed AS (
    SELECT date_trunc('month', c.closed_on)::date AS month,
           count(*) FILTER (WHERE c.stage = 'closed') AS paid_off,
           count(*) FILTER (WHERE c.stage = 'written_off') AS written_off,
           coalesce(sum(c.debt) FILTER (WHERE c.stage = 'written_off'), 0) AS written_off_debt
    FROM debtors_debtcase c
    WHERE c.closed_on >= %(first)s AND c.closed_on < %(end)s
    GROUP BY 1
),
cohort AS (
    SELECT DISTINCT m.month, c.account_id
    FROM months m
    JOIN debtors_debtcase c
      ON c.opened_on < m.month AND (c.closed_on IS NULL OR c.closed_on >= m.month)
),
overdue AS (
    SELECT k.month, k.account_id,
           greatest(coalesce(sum(e.amount) FILTER (
               WHERE NOT (e.kind IN ('charge', 'adjustment') AND e.amount > 0
                          AND p.month >= (k.month - interval '1 month')::date)
           ), 0), 0) AS debt
    FROM cohort k
    LEFT JOIN billing_ledgerentry e
      ON e.account_id = k.account_id AND e.booked_on < k.month
     AND e.kind IN ('charge', 'adjustment', 'payment')
    LEFT JOIN billing_period p ON p.id = e.period_id
    GROUP BY k.month, k.account_id
),
collected AS (
    SELECT k.month, -sum(e.amount) AS paid
    FROM cohort k
    JOIN billing_ledgerentry e
      ON e.account_id = k.account_id AND e.kind = 'payment'
     AND e.booked_on >= k.month AND e.booked_on < (k.month + interval '1 month')::date
    GROUP BY k.month
),
owed AS (
    SELECT month, count(*) AS debtors, sum(debt) AS debt FROM overdue GROUP BY month
)
SELECT m.month,
       coalesce(o.cases, 0), coalesce(o.debt, 0),
       coalesce(c.paid_off, 0), coalesce(c.written_off, 0), coalesce(c.written_off_debt, 0),
       coalesce(w.debtors, 0), coalesce(w.debt, 0), coalesce(p.paid, 0)
FROM months m
LEFT JOIN opened o ON o.month = m.month
LEFT JOIN closed c ON c.month = m.month
LEFT JOIN owed w ON w.month = m.month
LEFT JOIN collected p ON p.month = m.month
ORDER BY m.month
"""


def by_month(*, last: date, count: int = MONTHS) -> tuple[MonthRow, ...]:
    """The last `count` months up to `last` (a 1st, the current month included, so far).

    Cases: opened in the month (and their overdue debt when opened, from the opening event),
    closed as paid, written off (with the debt written off).

    Collection rate of month M = P / D, in per cent:
      - the cohort: accounts with a case open at the start of M (opened before the 1st of M,
        not closed before it);
      - D: their overdue principal at the start of M = the principal balance of the ledger
        before the 1st of M, less the charges and increasing adjustments of the periods
        from M-1 on (billed, not yet due: a month is due in the next one), and never below
        zero. Payments are taken as paying the oldest debt first, as the law's default is;
      - P: the principal payments (ledger kind "payment", not penalty payments) that the
        cohort's accounts booked in M.
    P also covers current charges paid in M, so the rate can exceed 100 %. A month with no
    overdue debt in the cohort has no rate.
    """
    first = _add_months(last, -(count - 1))
    with connection.cursor() as cursor:
        cursor.execute(BY_MONTH_SQL, {"first": first, "last": last, "end": _add_months(last, 1)})
        rows = cursor.fetchall()
    return tuple(
        MonthRow(
            month=month,
            opened=opened,
            opened_debt=opened_debt,
            closed=closed,
            written_off=written_off,
            written_off_debt=written_off_debt,
            debtors=debtors,
            overdue=overdue,
            paid=paid,
            rate=_rate(paid, overdue),
        )
        for (
            month, opened, opened_debt, closed, written_off, written_off_debt,
            debtors, overdue, paid,
        ) in rows
    )  # fmt: skip


def _rate(paid: Decimal, overdue: Decimal) -> Decimal | None:
    if overdue <= ZERO:
        return None
    # A percentage for display, not money: one decimal place, halves up.
    return (paid * HUNDRED / overdue).quantize(TENTH, rounding=ROUND_HALF_UP)


def rate_chart(months: tuple[MonthRow, ...]) -> Chart:
    """Bars of the collection rate, one a month; the scale is 100 % or the highest rate."""
    bar_width, gap, left, top, plot = 28, 12, 48, 16, 160
    rates = [row.rate for row in months if row.rate is not None]
    scale = max([HUNDRED, *rates])
    base = top + plot
    bars = []
    for index, row in enumerate(months):
        height = int(row.rate * plot / scale) if row.rate else 0  # pixels
        x = left + gap + index * (bar_width + gap)
        bars.append(
            Bar(
                month=row.month,
                rate=row.rate,
                x=x,
                y=base - height,
                height=height,
                center=x + bar_width // 2,
            )
        )
    return Chart(
        width=left + gap + len(months) * (bar_width + gap),
        height=base + 28,
        top=top,
        base=base,
        scale=scale,
        bar_width=bar_width,
        bars=tuple(bars),
    )


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
