"""Billing permissions for the staff groups (issue 4): the accountant runs billing and edits
tariffs and legal rates; lawyers see the ledger and may book penalty corrections;
operators see the ledger, payments and receipts."""

from django.db import migrations

from accounts import staff_groups

VIEW_MONEY = [
    "view_ledgerentry", "view_payment", "view_period", "view_receipt", "view_receiptbatch",
    "view_billingrun", "view_tariff", "view_norm", "view_keyrate", "view_moratorium",
    "view_ratecap",
]  # fmt: skip

GROUP_PERMISSIONS = {
    "accountant": VIEW_MONEY + [
        "add_tariff", "change_tariff", "view_historicaltariff",
        "add_norm", "change_norm", "view_historicalnorm",
        "add_period", "change_period",
        "add_keyrate", "change_keyrate", "view_historicalkeyrate",
        "add_moratorium", "change_moratorium", "view_historicalmoratorium",
        "add_ratecap", "change_ratecap", "view_historicalratecap",
        "add_ledgerentry", "add_payment",
    ],
    "lawyer": VIEW_MONEY + ["add_ledgerentry", "view_historicalkeyrate"],
    "operator": ["view_ledgerentry", "view_payment", "view_receipt", "view_period"],
}  # fmt: skip


def grant(apps, schema_editor):
    staff_groups.grant(apps, "billing", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    staff_groups.revoke(apps, "billing", list(GROUP_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_guards_and_legal_data"), ("meters", "0002_staff_permissions")]

    operations = [migrations.RunPython(grant, revoke)]
