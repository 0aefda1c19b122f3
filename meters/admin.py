"""Staff work on meters and readings: search, operator entry of a reading taken by phone,
meter replacement, and the import of controllers' readings with its report."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

import meters.voice.admin  # noqa: F401 - registers the phone line's calls and statistics
from meters import importing, services
from meters.models import ImportBatch, Meter, MeterReading
from vodokanal.common import clock
from vodokanal.common.staff_pages import form_page


class OperatorReadingForm(forms.Form):
    serial = forms.CharField(label="Заводской номер счётчика", max_length=30)
    value = forms.DecimalField(
        label="Показание, м³", min_value=0, max_digits=12, decimal_places=3, localize=True
    )
    taken_on = forms.DateField(label="Дата снятия показаний", initial=clock.today)

    def clean_serial(self) -> Meter:
        meter = (
            Meter.objects.exclude(state=Meter.State.REMOVED)
            .filter(serial=self.cleaned_data["serial"].strip())
            .first()
        )
        if meter is None:
            raise forms.ValidationError("Установленный счётчик с таким номером не найден.")
        return meter


class ReplacementForm(forms.Form):
    final_value = forms.DecimalField(
        label="Конечное показание старого счётчика, м³",
        min_value=0,
        max_digits=12,
        decimal_places=3,
        localize=True,
    )
    replaced_on = forms.DateField(label="Дата замены", initial=clock.today)
    new_serial = forms.CharField(label="Заводской номер нового счётчика", max_length=30)
    new_initial_reading = forms.DecimalField(
        label="Начальное показание нового счётчика, м³",
        min_value=0,
        max_digits=12,
        decimal_places=3,
        localize=True,
    )
    new_digits = forms.IntegerField(
        label="Разрядность нового счётчика", min_value=3, max_value=9, initial=5
    )
    new_verification_due = forms.DateField(label="Дата следующей поверки нового счётчика")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Файл CSV или XLSX", help_text="Столбцы: лицевой счёт; счётчик; показание; дата."
    )

    def clean_file(self) -> UploadedFile:
        """A file over READINGS_IMPORT_MAX_BYTES is refused before it is read (the import
        refuses it too, however it is called)."""
        upload = self.cleaned_data["file"]
        if upload.size > settings.READINGS_IMPORT_MAX_BYTES:
            raise importing.too_large()
        return upload


class ReadingInline(admin.TabularInline):
    model = MeterReading
    fields = ("taken_on", "value", "consumption", "channel", "status", "reason")
    readonly_fields = fields
    ordering = ("-taken_on", "-submitted_at")
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Meter)
class MeterAdmin(SimpleHistoryAdmin):
    list_display = ("serial", "kind", "account", "state", "verification_due", "actions_column")
    list_filter = ("kind", "state")
    search_fields = ("serial", "account__number", "account__address")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    inlines = [ReadingInline]

    @admin.display(description="действия")
    def actions_column(self, meter: Meter) -> str:
        if meter.state == Meter.State.REMOVED:
            return "—"
        return format_html(
            '<a href="{}">Ввести показание</a> · <a href="{}">Замена</a>',
            reverse("admin:meters_meterreading_operator_entry") + f"?meter={meter.pk}",
            reverse("admin:meters_meter_replace", args=[meter.pk]),
        )

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "<int:meter_id>/replace/",
                self.admin_site.admin_view(self.replace_view),
                name="meters_meter_replace",
            )
        ]
        return custom + super().get_urls()

    def replace_view(self, request: HttpRequest, meter_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        meter = get_object_or_404(Meter.objects.select_related("account"), pk=meter_id)
        form = ReplacementForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                new = services.replace_meter(
                    old_meter_id=meter.pk, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, f"Счётчик № {meter.serial} снят, установлен № {new.serial}."
                )
                return redirect("admin:meters_meter_change", new.pk)
        return form_page(
            self, request, f"Замена счётчика № {meter.serial}", form, meter=meter,
            template="admin/meters/form_page.html",
        )  # fmt: skip


@admin.register(MeterReading)
class MeterReadingAdmin(SimpleHistoryAdmin):
    list_display = (
        "taken_on",
        "meter",
        "account_number",
        "value",
        "consumption",
        "channel",
        "status",
        "needs_review",
    )
    list_filter = ("status", "channel", "needs_review", "period")
    search_fields = ("meter__serial", "meter__account__number", "meter__account__address")
    list_select_related = ("meter__account",)
    readonly_fields = [f.name for f in MeterReading._meta.fields]
    actions = ["reject_selected"]

    @admin.display(description="лицевой счёт", ordering="meter__account__number")
    def account_number(self, reading: MeterReading) -> str:
        return reading.meter.account.number

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # readings are never edited: a new one supersedes, staff reject

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def add_view(self, request, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        return redirect("admin:meters_meterreading_operator_entry")

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "operator-entry/",
                self.admin_site.admin_view(self.operator_entry),
                name="meters_meterreading_operator_entry",
            )
        ]
        return custom + super().get_urls()

    def operator_entry(self, request: HttpRequest) -> HttpResponse:
        """A reading the subscriber told the operator by phone (channel "operator")."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        preset = (
            Meter.objects.filter(pk=request.GET.get("meter") or 0)
            .values_list("serial", flat=True)
            .first()
        )
        form = OperatorReadingForm(
            request.POST if request.method == "POST" else None, initial={"serial": preset}
        )
        if form.is_valid():
            try:
                result = services.submit_reading(
                    meter_id=form.cleaned_data["serial"].pk,
                    value=form.cleaned_data["value"],
                    taken_on=form.cleaned_data["taken_on"],
                    channel=MeterReading.Channel.OPERATOR,
                    submitted_by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                level = messages.WARNING if result.reading.needs_review else messages.SUCCESS
                messages.add_message(
                    request,
                    level,
                    result.message
                    + (
                        " Большой расход: показание отмечено для проверки."
                        if result.reading.needs_review
                        else ""
                    ),
                )
                return redirect("admin:meters_meterreading_changelist")
        return form_page(self, request, "Показание, принятое по телефону", form)

    @admin.action(description="Отклонить выбранные показания (с проверкой)")
    def reject_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        count = 0
        for reading in queryset.filter(status=MeterReading.Status.ACCEPTED):
            services.reject_reading(
                reading_id=reading.pk, reason="Отклонено при проверке сотрудником.", by=request.user
            )
            count += 1
        messages.success(request, f"Отклонено показаний: {count}.")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "uploaded_at",
        "uploaded_by",
        "rows_total",
        "rows_accepted",
        "rows_rejected",
        "report_link",
    )
    readonly_fields = (
        "file_name",
        "sha256",
        "uploaded_at",
        "uploaded_by",
        "rows_total",
        "rows_accepted",
        "rows_rejected",
        "report_link",
    )
    exclude = ("rejected_rows",)

    @admin.display(description="отчёт")
    def report_link(self, batch: ImportBatch) -> str:
        if not batch.rows_rejected:
            return "ошибок нет"
        return format_html(
            '<a href="{}">Скачать отклонённые строки (CSV)</a>',
            reverse("admin:meters_importbatch_report", args=[batch.pk]),
        )

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "<int:batch_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="meters_importbatch_report",
            )
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST if request.method == "POST" else None, request.FILES or None)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = importing.import_controller_readings(
                    name=upload.name, content=upload, uploaded_by=request.user
                )  # the file is read in chunks, never whole
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.success(
                    request,
                    f"Файл загружен: строк {batch.rows_total}, принято {batch.rows_accepted}, отклонено {batch.rows_rejected}.",
                )
                return redirect("admin:meters_importbatch_change", batch.pk)
        return form_page(self, request, "Загрузка показаний контролёров", form, multipart=True)

    def report_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        response = HttpResponse(
            importing.rejected_rows_csv(batch), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="rejected-{batch.pk}.csv"'
        return response
