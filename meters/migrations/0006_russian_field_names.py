import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('meters', '0005_defaults_from_the_clock'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalmeterreading',
            name='import_batch',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='meters.importbatch', verbose_name='загрузка показаний'),
        ),
        migrations.AlterField(
            model_name='historicalmeterreading',
            name='meter',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='meters.meter', verbose_name='прибор учёта'),
        ),
        migrations.AlterField(
            model_name='importbatch',
            name='sha256',
            field=models.CharField(max_length=64, unique=True, verbose_name='контрольная сумма SHA-256'),
        ),
        migrations.AlterField(
            model_name='meterreading',
            name='import_batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='readings', to='meters.importbatch', verbose_name='загрузка показаний'),
        ),
        migrations.AlterField(
            model_name='meterreading',
            name='meter',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='readings', to='meters.meter', verbose_name='прибор учёта'),
        ),
        migrations.AlterField(
            model_name='phoneturn',
            name='call',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='turns', to='meters.phonecall', verbose_name='звонок'),
        ),
    ]
