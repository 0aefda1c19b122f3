from django.db import migrations, models


def phone_line_from_settings(apps, schema_editor):
    """The seeded phone line shows the number of the settings; the seeded bank instruction
    no longer prints an INN of its own (the payee's requisites are on the same page)."""
    PaymentChannel = apps.get_model("billing", "PaymentChannel")
    PaymentChannel.objects.filter(name="Автоматическая телефонная линия").update(
        phone_line=True, phone=""
    )
    for channel in PaymentChannel.objects.filter(instructions__contains="по ИНН 2310000003"):
        channel.instructions = channel.instructions.replace(
            "по ИНН 2310000003", "по ИНН из реквизитов для оплаты"
        )
        channel.save(update_fields=["instructions"])


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0010_billing_run_calculated_on'),
    ]

    operations = [
        migrations.AddField(
            model_name='paymentchannel',
            name='phone_line',
            field=models.BooleanField(default=False, help_text='Телефон берётся из настроек (UTILITY_READINGS_PHONE), как на квитанциях.', verbose_name='автоматическая линия показаний'),
        ),
        migrations.RunPython(phone_line_from_settings, migrations.RunPython.noop),
    ]
