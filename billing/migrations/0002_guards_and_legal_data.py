"""The ledger's rules in the database, and the legal data seeded from docs/penalties.md.

- billing_kopecks(numeric): the SQL twin of vodokanal.common.money.to_kopecks (Postgres rounds
  numeric halves away from zero, as ROUND_HALF_UP does); set-based SQL rounds only with it.
- Ledger entries are never updated; none is inserted into or deleted from a closed period;
  only a billing run deletes (its own rows of an open period, when it is rerun).
- A closed period is never reopened.
- Key rates, moratoria and the rate cap of docs/penalties.md §3 and §4.
"""

from django.db import migrations

GUARDS = """
CREATE FUNCTION billing_kopecks(amount numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT round(amount, 2)';

CREATE FUNCTION billing_month_index(day date) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT (extract(year FROM day) * 12 + extract(month FROM day) - 1)::integer';

CREATE FUNCTION billing_ledger_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are never updated: book an adjustment instead'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION billing_ledger_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN billing_period p ON p.id = n.period_id
               WHERE p.status = 'closed') THEN
        RAISE EXCEPTION 'period is closed: book the correction in the open period'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION billing_ledger_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN billing_period p ON p.id = o.period_id
               WHERE p.status = 'closed' OR o.run_id IS NULL) THEN
        RAISE EXCEPTION 'only a billing run replaces its own entries of an open period'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION billing_period_no_reopen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' AND (NEW.status <> 'closed' OR NEW.month <> OLD.month) THEN
        RAISE EXCEPTION 'a closed period is never reopened'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER billing_ledger_no_update BEFORE UPDATE ON billing_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_no_update();
CREATE TRIGGER billing_ledger_insert_guard AFTER INSERT ON billing_ledgerentry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_insert_guard();
CREATE TRIGGER billing_ledger_delete_guard AFTER DELETE ON billing_ledgerentry
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_delete_guard();
CREATE TRIGGER billing_period_no_reopen BEFORE UPDATE ON billing_period
    FOR EACH ROW EXECUTE FUNCTION billing_period_no_reopen();
"""

DROP_GUARDS = """
DROP TRIGGER billing_period_no_reopen ON billing_period;
DROP TRIGGER billing_ledger_delete_guard ON billing_ledgerentry;
DROP TRIGGER billing_ledger_insert_guard ON billing_ledgerentry;
DROP TRIGGER billing_ledger_no_update ON billing_ledgerentry;
DROP FUNCTION billing_period_no_reopen();
DROP FUNCTION billing_ledger_delete_guard();
DROP FUNCTION billing_ledger_insert_guard();
DROP FUNCTION billing_ledger_no_update();
DROP FUNCTION billing_kopecks(numeric);
DROP FUNCTION billing_month_index(date);
"""


def seed_legal_data(apps, schema_editor):
    from billing import legal_data

    KeyRate = apps.get_model("billing", "KeyRate")
    Moratorium = apps.get_model("billing", "Moratorium")
    RateCap = apps.get_model("billing", "RateCap")
    for row in legal_data.KEY_RATES:
        KeyRate.objects.get_or_create(
            valid_from=row.valid_from, defaults={"rate": row.rate, "source": "seed"}
        )
    for row in legal_data.MORATORIA:
        Moratorium.objects.get_or_create(
            date_from=row.date_from,
            date_to=row.date_to,
            defaults={"months_ended_before": row.months_ended_before, "basis": row.basis},
        )
    for row in legal_data.RATE_CAPS:
        RateCap.objects.get_or_create(
            date_from=row.date_from,
            date_to=row.date_to,
            defaults={"rate": row.rate, "basis": row.basis},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_ledger")]

    operations = [
        migrations.RunSQL(GUARDS, DROP_GUARDS),
        migrations.RunPython(seed_legal_data, migrations.RunPython.noop),
    ]
