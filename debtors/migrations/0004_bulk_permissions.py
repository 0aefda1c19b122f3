"""Staff permissions of the bulk actions and the dashboard (issue 6, item 6): the lawyer
starts bulk jobs and watches their progress; lawyers and accountants see the dashboard.

The dashboard's permission belongs to no model's default set, so it is created here on the
debt case's content type."""

from django.db import migrations

from accounts import staff_groups

DASHBOARD = ("view_debt_dashboard", "Может смотреть сводку по задолженности")

GROUP_PERMISSIONS = {
    "lawyer": ["view_bulkjob", "add_bulkjob", DASHBOARD[0]],
    "accountant": [DASHBOARD[0]],
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="debtors", model="debtcase")
    Permission.objects.get_or_create(
        content_type=content_type, codename=DASHBOARD[0], defaults={"name": DASHBOARD[1]}
    )
    staff_groups.grant(apps, "debtors", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="debtors", codename__in=GROUP_PERMISSIONS[group.name]
            )
        )
    Permission.objects.filter(content_type__app_label="debtors", codename=DASHBOARD[0]).delete()


class Migration(migrations.Migration):
    dependencies = [("debtors", "0003_bulk_jobs"), ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(grant, revoke)]
