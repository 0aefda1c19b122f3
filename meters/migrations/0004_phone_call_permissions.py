"""The phone line's call log (issue 7): operators see the calls, their turns and statistics."""

from django.db import migrations

from accounts import staff_groups

GROUP_PERMISSIONS = {"operator": ["view_phonecall", "view_phoneturn"]}


def grant(apps, schema_editor):
    staff_groups.grant(apps, "meters", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [codename for codenames in GROUP_PERMISSIONS.values() for codename in codenames]
    for group in Group.objects.filter(name__in=list(GROUP_PERMISSIONS)):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="meters", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("meters", "0003_phone_calls")]

    operations = [migrations.RunPython(grant, revoke)]
