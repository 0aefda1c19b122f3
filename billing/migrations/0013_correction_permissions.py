from django.db import migrations

from accounts import staff_groups


# Each kind of correction has its own right: the accountant books both, the lawyer only
# penalty corrections (billing/permissions.py).
GROUP_PERMISSIONS = {
    "accountant": ["book_charge_correction", "book_penalty_correction"],
    "lawyer": ["book_penalty_correction"],
}


def grant(apps, schema_editor):
    staff_groups.grant(apps, "billing", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = {codename for names in GROUP_PERMISSIONS.values() for codename in names}
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0012_russian_field_names'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='ledgerentry',
            options={'permissions': [('book_charge_correction', 'Может проводить перерасчёт начислений'), ('book_penalty_correction', 'Может корректировать и списывать пени')], 'verbose_name': 'запись лицевой карты', 'verbose_name_plural': 'лицевая карта (проводки)'},
        ),
        migrations.RunPython(grant, revoke),
    ]
