"""Meters permissions for the staff groups (issue 3): operators enter and replace, others view."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="meters", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in GROUP_PERMISSIONS:
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label="meters"))


class Migration(migrations.Migration):
    dependencies = [("meters", "0001_meters_and_readings"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
