"""State-fee scales seeded from debtors.court_fees (penalties.md section 9), and the staff
permissions of debt collection: the lawyer works the cases, others look."""

from django.db import migrations

from accounts import staff_groups

GROUP_PERMISSIONS = {
    "lawyer": [
        f"{action}_{model}"
        for model in (
            "debtcase", "caseevent", "debtdocument", "documentbatch", "installmentagreement",
            "instalment", "courtcase", "restriction", "publishedlist", "publishedentry",
            "statefeeband",
        )
        for action in ("view", "add", "change")
    ],
    "accountant": ["view_debtcase", "view_debtdocument", "view_installmentagreement",
                   "view_courtcase", "view_statefeeband"],
    "operator": ["view_debtcase", "view_debtdocument", "change_debtdocument",
                 "view_restriction", "change_restriction"],
}  # fmt: skip


def seed_fee_scales(apps, schema_editor):
    from debtors import court_fees

    StateFeeBand = apps.get_model("debtors", "StateFeeBand")
    for scale, bands in court_fees.STATE_FEE_SCALES.items():
        for band in bands:
            StateFeeBand.objects.get_or_create(
                scale=scale,
                up_to=band.up_to,
                defaults={
                    "base": band.base,
                    "percent": band.percent,
                    "over": band.over,
                    "min_fee": band.min_fee,
                    "max_fee": band.max_fee,
                },
            )


def grant(apps, schema_editor):
    staff_groups.grant(apps, "debtors", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    staff_groups.revoke(apps, "debtors", list(GROUP_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("debtors", "0001_debt_cases"), ("billing", "0005_agents_and_channels")]

    operations = [
        migrations.RunPython(seed_fee_scales, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
    ]
