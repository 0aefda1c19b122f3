from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_housing_coops_apart'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalsubscriber',
            name='head_name',
            field=models.CharField(blank=True, db_default='', max_length=200, verbose_name='ФИО руководителя'),
        ),
        migrations.AddField(
            model_name='historicalsubscriber',
            name='head_position',
            field=models.CharField(blank=True, db_default='', max_length=100, verbose_name='должность руководителя'),
        ),
        migrations.AddField(
            model_name='subscriber',
            name='head_name',
            field=models.CharField(blank=True, db_default='', max_length=200, verbose_name='ФИО руководителя'),
        ),
        migrations.AddField(
            model_name='subscriber',
            name='head_position',
            field=models.CharField(blank=True, db_default='', max_length=100, verbose_name='должность руководителя'),
        ),
        migrations.AlterField(
            model_name='historicalsubscriber',
            name='legal_address',
            field=models.CharField(blank=True, max_length=300, verbose_name='юридический адрес / адрес регистрации'),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='legal_address',
            field=models.CharField(blank=True, max_length=300, verbose_name='юридический адрес / адрес регистрации'),
        ),
    ]
