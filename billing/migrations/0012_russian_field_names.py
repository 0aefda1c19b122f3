import django.db.models.deletion
import vodokanal.common.clock
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_russian_field_names'),
        ('billing', '0011_phone_line_from_settings'),
        ('meters', '0006_russian_field_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='accrualregistry',
            name='agent',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='accruals', to='billing.paymentagent', verbose_name='платёжный агент'),
        ),
        migrations.AlterField(
            model_name='accrualregistry',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='accruals', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='billingrun',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='billingrun',
            name='started_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='запустил'),
        ),
        migrations.AlterField(
            model_name='billingrun',
            name='status',
            field=models.CharField(choices=[('queued', 'В очереди'), ('running', 'Выполняется'), ('done', 'Завершён'), ('failed', 'Ошибка')], default='queued', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='payment',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entry', to='billing.payment', verbose_name='платёж'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='run',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.billingrun', verbose_name='расчёт начислений'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.personalaccount', verbose_name='лицевой счёт'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='basis',
            field=models.CharField(choices=[('readings', 'по показаниям'), ('average', 'по среднему'), ('norm', 'по нормативу'), ('norm_increased', 'по нормативу с коэффициентом'), ('recalculation', 'перерасчёт')], max_length=20, verbose_name='основание'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='for_month',
            field=models.DateField(verbose_name='за месяц'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='kind',
            field=models.CharField(choices=[('cold', 'Холодная вода'), ('hot', 'Горячая вода')], max_length=10, verbose_name='вид'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='meter',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='meters.meter', verbose_name='прибор учёта'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='period',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='reading',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='meters.meterreading', verbose_name='показание'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='reverses',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='billing.metervolume', verbose_name='отменяет объём'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='run',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.billingrun', verbose_name='расчёт начислений'),
        ),
        migrations.AlterField(
            model_name='metervolume',
            name='volume',
            field=models.DecimalField(decimal_places=3, max_digits=12, verbose_name='объём, м³'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='online_payments', to='accounts.personalaccount', verbose_name='лицевой счёт'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='confirmation_url',
            field=models.URLField(blank=True, max_length=500, verbose_name='адрес подтверждения оплаты'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='created_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='завершено'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='gateway_payment_id',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name='номер платежа в платёжном сервисе'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='idempotence_key',
            field=models.UUIDField(unique=True, verbose_name='ключ идемпотентности'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='payment',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='online', to='billing.payment', verbose_name='платёж'),
        ),
        migrations.AlterField(
            model_name='onlinepayment',
            name='status',
            field=models.CharField(choices=[('pending', 'Ожидает оплаты'), ('succeeded', 'Оплачен'), ('canceled', 'Отменён')], default='pending', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='accounts.personalaccount', verbose_name='лицевой счёт'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='agent',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='billing.paymentagent', verbose_name='платёжный агент'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='registry',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='billing.registryimport', verbose_name='реестр платежей'),
        ),
        migrations.AlterField(
            model_name='paymentchannel',
            name='agent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='channels', to='billing.paymentagent', verbose_name='платёжный агент'),
        ),
        migrations.AlterField(
            model_name='period',
            name='closed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='закрыл'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='accounts.personalaccount', verbose_name='лицевой счёт'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='billing.receiptbatch', verbose_name='пачка'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='pdf',
            field=models.FileField(blank=True, upload_to='receipts/%Y/%m/', verbose_name='файл PDF'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='rendered_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='сформировано'),
        ),
        migrations.AlterField(
            model_name='receiptbatch',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='receiptbatch',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='receipt_batches', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='receiptbatch',
            name='rendered_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='сформировано'),
        ),
        migrations.AlterField(
            model_name='receiptbatch',
            name='status',
            field=models.CharField(choices=[('pending', 'Ожидает'), ('ready', 'Готов'), ('failed', 'Ошибка')], default='pending', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='registryimport',
            name='agent',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='imports', to='billing.paymentagent', verbose_name='платёжный агент'),
        ),
        migrations.AlterField(
            model_name='registryimport',
            name='imported_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='загрузил'),
        ),
        migrations.AlterField(
            model_name='registryimport',
            name='sha256',
            field=models.CharField(max_length=64, unique=True, verbose_name='контрольная сумма SHA-256'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='agent',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.paymentagent', verbose_name='платёжный агент'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='payment',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.payment', verbose_name='платёж'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='registry',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='unidentified_payments', to='billing.registryimport', verbose_name='реестр платежей'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='resolved_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='разобрано'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='resolved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='разобрал'),
        ),
        migrations.AlterField(
            model_name='unidentifiedpayment',
            name='status',
            field=models.CharField(choices=[('open', 'Не выяснен'), ('resolved', 'Зачислен на счёт')], default='open', max_length=10, verbose_name='состояние'),
        ),
    ]
