import vodokanal.common.clock
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0009_defaults_from_the_clock'),
    ]

    operations = [
        migrations.AddField(
            model_name='billingrun',
            name='calculated_on',
            field=models.DateField(default=vodokanal.common.clock.today, verbose_name='дата расчёта'),
        ),
        # Runs before this field calculated on the day they were created.
        migrations.RunSQL(
            "UPDATE billing_billingrun SET calculated_on = "
            "(created_at AT TIME ZONE 'Europe/Moscow')::date",
            migrations.RunSQL.noop,
        ),
    ]
