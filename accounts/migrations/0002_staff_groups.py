"""Staff groups with least-privilege permissions (issue 2). Later apps add their own
permissions to these groups in their own data migrations."""

from django.db import migrations

from accounts import staff_groups

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
    staff_groups.grant(apps, "accounts", GROUP_PERMISSIONS)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
