"""The charges of a billing run, in set-based SQL (docs/architecture.md §7).

A handful of INSERT ... SELECT statements bill every account of the period at once; no
Python loop touches an account. `bill_period` runs them inside the run's transaction:

1. volumes from readings not billed yet (a late reading of an earlier month included);
2. reversals of billed readings that staff have since rejected or superseded;
3. reversals of estimates (average, norm) that a newly billed reading now covers;
4. estimates for meters with no reading this month: the average, then the norm (ПП 354
   п. 59, 60; docs/penalties.md §7), the norm with the coefficient for a broken or
   unverified meter;
5. the norm x residents where the account has no meter of that water;
6. one charge per account and service: volume of the month x the tariff in force, by days
   when the tariff changed mid-month; cold water is water supply; cold + hot is sewage;
7. one adjustment per account, service, month corrected and reading that caused it, priced
   at the tariff of the month corrected, with its reason.

Rounding is billing_kopecks() (the SQL twin of money.to_kopecks), once per ledger amount.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import PersonalAccount
from billing.models import Norm, Service
from vodokanal.common import clock
from vodokanal.common.months import month_end

# Months of a period's volumes and the weighted price of each tariff in them.
_TARIFF_CTE = """
month_tariff AS (
    SELECT t.service, t.category, m.month,
           sum(t.price * (LEAST(COALESCE(t.valid_to, 'infinity'::date), m.last_day)
                          - GREATEST(t.valid_from, m.month) + 1))
           / (m.last_day - m.month + 1) AS price,
           sum(LEAST(COALESCE(t.valid_to, 'infinity'::date), m.last_day)
               - GREATEST(t.valid_from, m.month) + 1) AS days,
           m.last_day - m.month + 1 AS month_days
    FROM months m
    JOIN billing_tariff t
      ON t.valid_from <= m.last_day AND COALESCE(t.valid_to, 'infinity'::date) >= m.month
    GROUP BY t.service, t.category, m.month, m.last_day
)
"""

_MONTHS_CTE = """
months AS (
    SELECT DISTINCT v.for_month AS month,
           (v.for_month + interval '1 month' - interval '1 day')::date AS last_day
    FROM billing_metervolume v WHERE v.period_id = %(period)s
    UNION
    SELECT %(month)s::date, %(last_day)s::date
)
"""

# Accounts billed in the period: open on at least one of its days.
_ACCOUNT_OPEN = """
    a.opened_on <= %(last_day)s AND (a.closed_on IS NULL OR a.closed_on >= %(month)s)
"""

_STEPS = [
    # 1. Accepted readings not billed yet, of this month or a late one of an earlier month.
    """
    INSERT INTO billing_metervolume
        (period_id, run_id, account_id, meter_id, kind, for_month, volume, basis, reading_id)
    SELECT %(period)s, %(run)s, m.account_id, m.id, m.kind, r.period, r.consumption,
           'readings', r.id
    FROM meters_meterreading r
    JOIN meters_meter m ON m.id = r.meter_id
    WHERE r.status = 'accepted' AND r.period <= %(month)s AND r.period >= %(start)s
      AND NOT EXISTS (SELECT 1 FROM billing_metervolume v
                      WHERE v.reading_id = r.id AND v.basis = 'readings')
    """,
    # 2. Billed readings that are no longer accepted: their volume is taken back.
    """
    INSERT INTO billing_metervolume
        (period_id, run_id, account_id, meter_id, kind, for_month, volume, basis, reading_id,
         reverses_id)
    SELECT %(period)s, %(run)s, v.account_id, v.meter_id, v.kind, v.for_month, -v.volume,
           'recalculation', v.reading_id, v.id
    FROM billing_metervolume v
    JOIN meters_meterreading r ON r.id = v.reading_id
    WHERE v.basis = 'readings' AND r.status <> 'accepted'
      AND NOT EXISTS (SELECT 1 FROM billing_metervolume x WHERE x.reverses_id = v.id)
    """,
    # 3. Estimates of earlier runs now covered by a reading billed in this run: each one
    #    by the earliest such reading of its meter. Driven by this run's readings (one
    #    index probe each into the meter's estimates), not by every estimate ever billed.
    """
    INSERT INTO billing_metervolume
        (period_id, run_id, account_id, meter_id, kind, for_month, volume, basis, reading_id,
         reverses_id)
    SELECT DISTINCT ON (v.id) %(period)s, %(run)s, v.account_id, v.meter_id, v.kind,
           v.for_month, -v.volume, 'recalculation', n.reading_id, v.id
    FROM billing_metervolume n
    JOIN billing_metervolume v ON v.meter_id = n.meter_id AND v.for_month <= n.for_month
    WHERE n.period_id = %(period)s AND n.basis = 'readings' AND n.volume >= 0
      AND v.basis IN ('average', 'norm', 'norm_increased') AND v.meter_id IS NOT NULL
      AND v.period_id <> %(period)s
      AND NOT EXISTS (SELECT 1 FROM billing_metervolume x WHERE x.reverses_id = v.id)
    ORDER BY v.id, n.for_month
    """,
    # 4. Meters with no reading this month: the average, then the norm.
    """
    WITH present AS (
        SELECT m.id, m.account_id, m.kind, m.installed_on, a.residents,
               (m.state IN ('broken', 'verification_expired')
                OR m.verification_due < %(month)s) AS faulty,
               CASE WHEN m.verification_due < %(month)s
                    THEN billing_month_index(%(month)s) - billing_month_index(m.verification_due)
               END AS months_unverified,
               (SELECT max(r.period) FROM meters_meterreading r
                WHERE r.meter_id = m.id AND r.status = 'accepted' AND r.period < %(month)s)
                   AS last_month
        FROM meters_meter m
        JOIN accounts_personalaccount a ON a.id = m.account_id
        WHERE m.installed_on <= %(month)s AND m.state <> 'removed'
          AND (m.removed_on IS NULL OR m.removed_on > %(last_day)s)
          AND """
    + _ACCOUNT_OPEN
    + """
          AND NOT EXISTS (SELECT 1 FROM meters_meterreading r
                          WHERE r.meter_id = m.id AND r.period = %(month)s
                            AND r.status = 'accepted')
    ),
    history AS (
        SELECT p.*, w.first_month,
               billing_month_index(%(month)s)
               - billing_month_index(COALESCE(p.last_month, p.installed_on)) AS months_without,
               billing_month_index(p.last_month) - billing_month_index(w.first_month)
                   AS history_months,
               (SELECT sum(r.consumption) FROM meters_meterreading r
                WHERE r.meter_id = p.id AND r.status = 'accepted'
                  AND r.period > w.first_month AND r.period <= p.last_month) AS used
        FROM present p
        LEFT JOIN LATERAL (
            SELECT min(r.period) AS first_month FROM meters_meterreading r
            WHERE r.meter_id = p.id AND r.status = 'accepted' AND r.period <= p.last_month
              AND r.period >= (p.last_month - make_interval(months => %(history_months)s))::date
        ) w ON true
    ),
    averaged AS (
        SELECT h.*,
               CASE WHEN h.history_months >= %(min_months)s
                    THEN round(h.used / h.history_months, 3) END AS average,
               COALESCE(h.months_unverified, h.months_without) AS months_faulty
        FROM history h
    ),
    decided AS (
        SELECT d.*,
               CASE WHEN d.average IS NOT NULL AND NOT d.faulty
                         AND d.months_without <= %(average_max)s THEN 'average'
                    WHEN d.average IS NOT NULL AND d.faulty
                         AND d.months_faulty <= %(faulty_average_max)s THEN 'average'
                    WHEN d.faulty THEN 'norm_increased'
                    ELSE 'norm' END AS basis,
               (SELECT count(*) FROM meters_meter o
                WHERE o.account_id = d.account_id AND o.kind = d.kind
                  AND o.installed_on <= %(last_day)s AND o.state <> 'removed'
                  AND (o.removed_on IS NULL OR o.removed_on > %(last_day)s)) AS meters_of_kind
        FROM averaged d
    )
    INSERT INTO billing_metervolume
        (period_id, run_id, account_id, meter_id, kind, for_month, volume, basis)
    SELECT %(period)s, %(run)s, d.account_id, d.id, d.kind, %(month)s,
           CASE d.basis
               WHEN 'average' THEN d.average
               WHEN 'norm' THEN round(n.volume * d.residents / d.meters_of_kind, 3)
               ELSE round(n.volume * d.residents * %(faulty_coefficient)s / d.meters_of_kind, 3)
           END,
           d.basis
    FROM decided d
    LEFT JOIN billing_norm n ON n.kind = d.kind AND n.valid_from <= %(month)s
         AND COALESCE(n.valid_to, 'infinity'::date) >= %(month)s
    """,
    # 5. No meter of a water: the norm x residents (hot water only where the house has it).
    """
    INSERT INTO billing_metervolume
        (period_id, run_id, account_id, meter_id, kind, for_month, volume, basis)
    SELECT %(period)s, %(run)s, a.id, NULL, n.kind, %(month)s,
           round(n.volume * a.residents * %(no_meter_coefficient)s, 3), 'norm'
    FROM accounts_personalaccount a
    JOIN billing_norm n ON n.valid_from <= %(month)s
         AND COALESCE(n.valid_to, 'infinity'::date) >= %(month)s
         AND (n.kind = 'cold' OR (n.kind = 'hot' AND a.hot_water AND a.sewage))
    WHERE """
    + _ACCOUNT_OPEN
    + """
      AND NOT EXISTS (SELECT 1 FROM meters_meter m
                      WHERE m.account_id = a.id AND m.kind = n.kind
                        AND m.installed_on <= %(last_day)s
                        AND (m.removed_on IS NULL OR m.removed_on >= %(month)s))
    """,
    # 6. Charges: the month's volumes x the tariff in force.
    "WITH "
    + _MONTHS_CTE
    + ","
    + _TARIFF_CTE
    + """,
    volumes AS (
        SELECT v.account_id,
               sum(v.volume) FILTER (WHERE v.kind = 'cold') AS cold,
               sum(v.volume) AS total,
               max(CASE v.basis WHEN 'readings' THEN 1 WHEN 'average' THEN 2
                                WHEN 'norm' THEN 3 ELSE 4 END) FILTER (WHERE v.kind = 'cold')
                   AS cold_rank,
               max(CASE v.basis WHEN 'readings' THEN 1 WHEN 'average' THEN 2
                                WHEN 'norm' THEN 3 ELSE 4 END) AS rank
        FROM billing_metervolume v
        WHERE v.period_id = %(period)s AND v.for_month = %(month)s
        GROUP BY v.account_id
    ),
    lines AS (
        SELECT a.id AS account_id, a.tariff_category, s.service,
               COALESCE(CASE s.service WHEN 'water_supply' THEN v.cold ELSE v.total END, 0)
                   AS volume,
               CASE s.service WHEN 'water_supply' THEN v.cold_rank ELSE v.rank END AS rank
        FROM accounts_personalaccount a
        LEFT JOIN volumes v ON v.account_id = a.id
        JOIN (VALUES ('water_supply'), ('sewage')) AS s(service)
          ON (s.service = 'water_supply' AND a.water_supply)
          OR (s.service = 'sewage' AND a.sewage)
        WHERE """
    + _ACCOUNT_OPEN
    + """
    )
    INSERT INTO billing_ledgerentry
        (account_id, period_id, kind, service, amount, volume, basis, tariff, for_month,
         booked_on, reason, run_id, created_at)
    SELECT l.account_id, %(period)s, 'charge', l.service,
           billing_kopecks(l.volume * t.price), l.volume,
           CASE l.rank WHEN 1 THEN 'readings' WHEN 2 THEN 'average' WHEN 3 THEN 'norm'
                       WHEN 4 THEN 'norm_increased' ELSE 'readings' END,
           round(t.price, 4), %(month)s, %(booked_on)s, '', %(run)s, %(now)s
    FROM lines l
    JOIN month_tariff t ON t.service = l.service AND t.category = l.tariff_category
         AND t.month = %(month)s
    """,
    # 7. Adjustments: late readings and reversed estimates of earlier months.
    "WITH "
    + _MONTHS_CTE
    + ","
    + _TARIFF_CTE
    + """,
    corrections AS (
        SELECT v.account_id, v.for_month, v.reading_id, s.service,
               sum(v.volume) AS volume,
               sum(v.volume) FILTER (WHERE v.basis = 'readings') AS actual,
               -sum(v.volume) FILTER (WHERE o.basis <> 'readings') AS estimated,
               -sum(v.volume) FILTER (WHERE o.basis = 'readings') AS withdrawn
        FROM billing_metervolume v
        LEFT JOIN billing_metervolume o ON o.id = v.reverses_id
        JOIN accounts_personalaccount a ON a.id = v.account_id
        JOIN (VALUES ('water_supply'), ('sewage')) AS s(service)
          ON (s.service = 'water_supply' AND a.water_supply AND v.kind = 'cold')
          OR (s.service = 'sewage' AND a.sewage)
        WHERE v.period_id = %(period)s AND v.for_month < %(month)s
        GROUP BY v.account_id, v.for_month, v.reading_id, s.service
    )
    INSERT INTO billing_ledgerentry
        (account_id, period_id, kind, service, amount, volume, basis, tariff, for_month,
         booked_on, reason, reading_id, run_id, created_at)
    SELECT c.account_id, %(period)s, 'adjustment', c.service,
           billing_kopecks(c.volume * t.price), c.volume, 'recalculation', round(t.price, 4),
           c.for_month, %(booked_on)s,
           'Перерасчёт за ' || to_char(c.for_month, 'MM.YYYY') || ': '
           || CASE WHEN c.withdrawn IS NOT NULL
                   THEN 'показание от ' || to_char(r.taken_on, 'DD.MM.YYYY')
                        || ' отклонено, снято ' || replace(c.withdrawn::text, '.', ',') || ' м³'
                   WHEN c.actual IS NULL
                   THEN 'начисленные без показаний ' || replace(c.estimated::text, '.', ',')
                        || ' м³ сняты: расход учтён по показанию от '
                        || to_char(r.taken_on, 'DD.MM.YYYY')
                   WHEN c.estimated IS NULL
                   THEN 'по показанию от ' || to_char(r.taken_on, 'DD.MM.YYYY')
                        || ', переданному позже, ' || replace(c.actual::text, '.', ',') || ' м³'
                   ELSE 'по показаниям ' || replace(c.actual::text, '.', ',')
                        || ' м³ вместо ' || replace(c.estimated::text, '.', ',')
                        || ' м³ по среднему или нормативу'
              END,
           c.reading_id, %(run)s, %(now)s
    FROM corrections c
    JOIN accounts_personalaccount a ON a.id = c.account_id
    LEFT JOIN meters_meterreading r ON r.id = c.reading_id
    JOIN month_tariff t ON t.service = c.service AND t.category = a.tariff_category
         AND t.month = c.for_month
    WHERE c.volume <> 0
    """,
]

# Service and category pairs that some open account needs and no tariff covers on every day
# of a month the period bills (its own, and the months its corrections are for).
_MISSING_TARIFFS = (
    "WITH "
    + _MONTHS_CTE
    + ","
    + _TARIFF_CTE
    + """
    SELECT DISTINCT s.service, a.tariff_category, m.month
    FROM accounts_personalaccount a
    JOIN (VALUES ('water_supply'), ('sewage')) AS s(service)
      ON (s.service = 'water_supply' AND a.water_supply) OR (s.service = 'sewage' AND a.sewage)
    CROSS JOIN months m
    LEFT JOIN month_tariff t ON t.service = s.service AND t.category = a.tariff_category
         AND t.month = m.month
    WHERE """
    + _ACCOUNT_OPEN
    + """
      AND (t.days IS NULL OR t.days < t.month_days)
    ORDER BY 3, 1, 2
    """
)


@dataclass(frozen=True)
class ChargeTotals:
    accounts: int
    charged: Decimal
    adjusted: Decimal


def missing_tariffs(*, period_id: int, month: date) -> list[tuple[str, str, date]]:
    """(service, category, month) that some account needs and no tariff covers fully."""
    with connection.cursor() as cursor:
        cursor.execute(_MISSING_TARIFFS, _params(period_id=period_id, run_id=0, month=month))
        return cursor.fetchall()


def bill_period(
    *, period_id: int, run_id: int, month: date, start: date, booked_on: date
) -> ChargeTotals:
    """Replace nothing, insert everything: the caller has removed the run's earlier rows.
    Charges and adjustments are dated `booked_on`, the run's day (never after it)."""
    params = {
        **_params(period_id=period_id, run_id=run_id, month=month, start=start),
        "booked_on": booked_on,
    }
    with connection.cursor() as cursor:
        for statement in _STEPS[:5]:
            cursor.execute(statement, params)
        _refuse_missing_tariffs(period_id=period_id, month=month)  # corrections add months
        for statement in _STEPS[5:]:
            cursor.execute(statement, params)
        cursor.execute(
            """
            SELECT count(DISTINCT account_id) FILTER (WHERE kind = 'charge'),
                   COALESCE(sum(amount) FILTER (WHERE kind = 'charge'), 0),
                   COALESCE(sum(amount) FILTER (WHERE kind = 'adjustment'), 0)
            FROM billing_ledgerentry WHERE period_id = %s AND run_id = %s
            """,
            [period_id, run_id],
        )
        accounts, charged, adjusted = cursor.fetchone()
    return ChargeTotals(accounts=accounts, charged=charged, adjusted=adjusted)


def _params(*, period_id: int, run_id: int, month: date, start: date | None = None) -> dict:
    return {
        "period": period_id,
        "run": run_id,
        "now": clock.now(),
        "month": month,
        "last_day": month_end(month),
        "start": start or month,
        "history_months": settings.BILLING_AVERAGE_HISTORY_MONTHS,
        "min_months": settings.BILLING_AVERAGE_MIN_MONTHS,
        "average_max": settings.BILLING_AVERAGE_MAX_MONTHS,
        "faulty_average_max": settings.BILLING_FAULTY_AVERAGE_MAX_MONTHS,
        "faulty_coefficient": Decimal(settings.BILLING_FAULTY_NORM_COEFFICIENT),
        "no_meter_coefficient": Decimal(settings.BILLING_NO_METER_COEFFICIENT),
    }


def check_ready(*, period_id: int, month: date) -> None:
    """Refuse a run that would charge without a tariff or a norm: a clear Russian message."""
    problems = []
    for kind, label in (("cold", "холодную"), ("hot", "горячую")):
        in_force = Norm.objects.filter(kind=kind, valid_from__lte=month).exclude(valid_to__lt=month)
        if not in_force.exists():
            problems.append(f"нет норматива потребления на {label} воду на {month:%m.%Y}")
    if problems:
        raise ValidationError("Расчёт невозможен: " + "; ".join(problems) + ".", code="not_ready")
    _refuse_missing_tariffs(period_id=period_id, month=month)


def _refuse_missing_tariffs(*, period_id: int, month: date) -> None:
    services = dict(Service.choices)
    categories = dict(PersonalAccount.TariffCategory.choices)
    missing = [
        f"«{services[service]}» для группы «{categories[category]}» на {day:%m.%Y}"
        for service, category, day in missing_tariffs(period_id=period_id, month=month)
    ]
    if missing:
        raise ValidationError(
            "Расчёт невозможен: тариф задан не на все дни месяца: " + "; ".join(missing) + ".",
            code="tariff_missing",
        )
