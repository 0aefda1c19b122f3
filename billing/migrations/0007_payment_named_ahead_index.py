"""A partial index for the penalty run's candidate query (issue 8).

The query reads the month a payment names from the payment's ledger row (for_month), which
register_payments sets to the named month, or to the period's month when the payment names
none. Only a payment that names a month not before the month it was paid can name its own
period's month, where the row alone does not tell; this index holds just those (advance
payments, a few), so the query finds them without joining every payment row to its
payment. billing_month_index is the immutable function of migration 0002. The index is
raw SQL (an expression in its condition), so the models' state does not change.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_indexes_for_scale"),
    ]

    operations = [
        migrations.RunSQL(
            """
            CREATE INDEX IF NOT EXISTS payment_named_ahead_idx ON billing_payment (id)
            WHERE billing_month_index(for_month) >= billing_month_index(paid_on);
            """,
            "DROP INDEX IF EXISTS payment_named_ahead_idx;",
        ),
    ]
