import django.db.models.deletion
import vodokanal.common.clock
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_subscriber_head'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accountlink',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='accounts.personalaccount', verbose_name='лицевой счёт'),
        ),
        migrations.AlterField(
            model_name='accountlink',
            name='confirmed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='подтверждено'),
        ),
        migrations.AlterField(
            model_name='accountlink',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='accountlink',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='account_links', to=settings.AUTH_USER_MODEL, verbose_name='пользователь'),
        ),
        migrations.AlterField(
            model_name='historicalsubscriber',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, editable=False, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='subscriber',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, editable=False, verbose_name='создано'),
        ),
    ]
