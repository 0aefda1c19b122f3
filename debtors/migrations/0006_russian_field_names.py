import django.db.models.deletion
import vodokanal.common.clock
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_russian_field_names'),
        ('billing', '0012_russian_field_names'),
        ('debtors', '0005_defaults_from_the_clock'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='bulkjob',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='bulkjob',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='bulkjob',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='завершено'),
        ),
        migrations.AlterField(
            model_name='bulkjob',
            name='status',
            field=models.CharField(choices=[('queued', 'В очереди'), ('running', 'Выполняется'), ('done', 'Завершено')], default='queued', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='время'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='сотрудник'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='debtors.debtcase', verbose_name='дело о задолженности'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='from_stage',
            field=models.CharField(blank=True, choices=[('overdue', 'Просрочка'), ('notified', 'Уведомлён'), ('claim_sent', 'Направлена претензия'), ('restriction_warned', 'Предупреждён об ограничении'), ('restricted', 'Подача ограничена'), ('in_court', 'В суде'), ('enforcement', 'Исполнительное производство'), ('closed', 'Закрыто'), ('written_off', 'Списано')], max_length=20, verbose_name='со стадии'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='to_stage',
            field=models.CharField(choices=[('overdue', 'Просрочка'), ('notified', 'Уведомлён'), ('claim_sent', 'Направлена претензия'), ('restriction_warned', 'Предупреждён об ограничении'), ('restricted', 'Подача ограничена'), ('in_court', 'В суде'), ('enforcement', 'Исполнительное производство'), ('closed', 'Закрыто'), ('written_off', 'Списано')], max_length=20, verbose_name='на стадию'),
        ),
        migrations.AlterField(
            model_name='courtcase',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='court_cases', to='debtors.debtcase', verbose_name='дело о задолженности'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='debtors.documentbatch', verbose_name='пачка'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='debtors.debtcase', verbose_name='дело о задолженности'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='pdf',
            field=models.FileField(blank=True, upload_to='debt-documents/%Y/%m/', verbose_name='файл PDF'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='period',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='rendered_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='сформировано'),
        ),
        migrations.AlterField(
            model_name='debtdocument',
            name='status',
            field=models.CharField(choices=[('pending', 'Ожидает формирования'), ('ready', 'Сформирован')], default='pending', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='documentbatch',
            name='created_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='создано'),
        ),
        migrations.AlterField(
            model_name='documentbatch',
            name='period',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.period', verbose_name='расчётный период'),
        ),
        migrations.AlterField(
            model_name='documentbatch',
            name='rendered_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='сформировано'),
        ),
        migrations.AlterField(
            model_name='documentbatch',
            name='status',
            field=models.CharField(choices=[('pending', 'Ожидает'), ('ready', 'Готов')], default='pending', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='installmentagreement',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='agreements', to='debtors.debtcase', verbose_name='дело о задолженности'),
        ),
        migrations.AlterField(
            model_name='installmentagreement',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='создал'),
        ),
        migrations.AlterField(
            model_name='installmentagreement',
            name='status',
            field=models.CharField(choices=[('active', 'Действует'), ('completed', 'Исполнено'), ('broken', 'Нарушено')], default='active', max_length=10, verbose_name='состояние'),
        ),
        migrations.AlterField(
            model_name='instalment',
            name='agreement',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='instalments', to='debtors.installmentagreement', verbose_name='соглашение о рассрочке'),
        ),
        migrations.AlterField(
            model_name='publishedentry',
            name='published_list',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='debtors.publishedlist', verbose_name='список'),
        ),
        migrations.AlterField(
            model_name='publishedentry',
            name='removed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='исключил'),
        ),
        migrations.AlterField(
            model_name='publishedentry',
            name='subscriber',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.subscriber', verbose_name='абонент'),
        ),
        migrations.AlterField(
            model_name='publishedlist',
            name='kind',
            field=models.CharField(choices=[('debtors', 'Должники — юридические лица'), ('good_payers', 'Добросовестные плательщики')], max_length=20, verbose_name='вид'),
        ),
        migrations.AlterField(
            model_name='publishedlist',
            name='published_at',
            field=models.DateTimeField(default=vodokanal.common.clock.now, verbose_name='опубликовано'),
        ),
        migrations.AlterField(
            model_name='restriction',
            name='case',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='restrictions', to='debtors.debtcase', verbose_name='дело о задолженности'),
        ),
    ]
