"""Meters permissions for the staff groups (issue 3): operators enter and replace, others view."""

from django.db import migrations

from accounts import staff_groups

GROUP_PERMISSIONS = {
    "operator": [
        "add_meter", "change_meter", "view_meter", "view_historicalmeter",
        "add_meterreading", "view_meterreading", "view_historicalmeterreading",
        "add_importbatch", "view_importbatch",
    ],
    "accountant": ["view_meter", "view_meterreading", "view_importbatch"],
    "lawyer": ["view_meter", "view_meterreading"],
}


def grant(apps, schema_editor):
    staff_groups.grant(apps, "meters", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    staff_groups.revoke(apps, "meters", list(GROUP_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("meters", "0001_meters_and_readings"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
