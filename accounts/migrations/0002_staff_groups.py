"""Staff groups with least-privilege permissions (issue 2). Later apps add their own
permissions to these groups in their own data migrations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "operator": [
        "view_user",
        "add_subscriber", "change_subscriber", "view_subscriber", "view_historicalsubscriber",
        "add_personalaccount", "change_personalaccount", "view_personalaccount",
        "view_historicalpersonalaccount",
        "view_accountlink", "delete_accountlink",
    ],
    "accountant": ["view_subscriber", "view_personalaccount", "view_historicalpersonalaccount"],
    "lawyer": [
        "view_subscriber", "change_subscriber", "view_historicalsubscriber",
        "view_personalaccount", "view_historicalpersonalaccount",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
