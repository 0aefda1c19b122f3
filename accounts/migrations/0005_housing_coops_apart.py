from django.db import migrations, models


def mark_managing_orgs(apps, schema_editor):
    """Every managing organisation so far may be a ТСЖ or ЖСК: staff check each."""
    Subscriber = apps.get_model("accounts", "Subscriber")
    Subscriber.objects.filter(kind="managing_org").update(kind_to_check=True)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_defaults_from_the_clock'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalsubscriber',
            name='kind_to_check',
            field=models.BooleanField(db_default=False, default=False, verbose_name='вид проверить (УК или ТСЖ/ЖСК)'),
        ),
        migrations.AddField(
            model_name='subscriber',
            name='kind_to_check',
            field=models.BooleanField(db_default=False, default=False, verbose_name='вид проверить (УК или ТСЖ/ЖСК)'),
        ),
        migrations.AlterField(
            model_name='historicalsubscriber',
            name='kind',
            field=models.CharField(choices=[('individual', 'Физическое лицо'), ('housing_coop', 'ТСЖ, ЖСК, жилищный кооператив'), ('managing_org', 'Управляющая организация (УК)'), ('legal', 'Юридическое лицо, ИП')], max_length=20, verbose_name='вид абонента'),
        ),
        migrations.AlterField(
            model_name='historicalsubscriber',
            name='socially_important',
            field=models.BooleanField(default=False, help_text='Ограничение подачи только в особом порядке (ст. 21 Федерального закона № 416-ФЗ).', verbose_name='социально значимый объект'),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='kind',
            field=models.CharField(choices=[('individual', 'Физическое лицо'), ('housing_coop', 'ТСЖ, ЖСК, жилищный кооператив'), ('managing_org', 'Управляющая организация (УК)'), ('legal', 'Юридическое лицо, ИП')], max_length=20, verbose_name='вид абонента'),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='socially_important',
            field=models.BooleanField(default=False, help_text='Ограничение подачи только в особом порядке (ст. 21 Федерального закона № 416-ФЗ).', verbose_name='социально значимый объект'),
        ),
        migrations.RunPython(mark_managing_orgs, migrations.RunPython.noop),
    ]
