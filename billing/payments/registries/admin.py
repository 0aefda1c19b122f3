"""The accountant's work with payment agents (docs/formats.md §1): agents' formats, uploading payment
registries and reading their reports, resolving unidentified payments, building the accrual
registries, and the reconciliation of registries with booked payments. The pages are thin:
a form, one service call, a page or a redirect."""

import codecs
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from billing.forms import AccountNumberField
from billing.models import (
    AccrualRegistry,
    PaymentAgent,
    Period,
    RegistryImport,
    UnidentifiedPayment,
)
from billing.payments import accruals
from billing.payments.registries import services as registries
from vodokanal.common.amount_words import format_rub
from vodokanal.common.russian import ru_date
from vodokanal.common.staff_pages import form_page, staff_page

TEMPLATES = "admin/billing/registries/"


class PaymentAgentForm(forms.ModelForm):
    """A format the parser can read: the needed columns as numbers, formats that parse."""

    class Meta:
        model = PaymentAgent
        fields = (
            "name", "code", "is_active", "encoding", "separator", "date_format", "time_format",
            "period_format", "columns", "readings_from", "summary_prefix", "summary_columns",
        )  # fmt: skip

    def _columns(self, name: str, required: tuple[str, ...]) -> dict:
        columns = self.cleaned_data[name]
        if not isinstance(columns, dict) or not all(
            isinstance(index, int) and index >= 0 for index in columns.values()
        ):
            raise forms.ValidationError(
                "Укажите словарь «поле: номер колонки», номера — целые числа с нуля."
            )
        missing = [field for field in required if field not in columns]
        if missing:
            raise forms.ValidationError(f"Не указаны колонки: {', '.join(missing)}.")
        return columns

    def clean_columns(self) -> dict:
        return self._columns("columns", ("date", "operation", "account", "amount"))

    def clean_summary_columns(self) -> dict:
        return self._columns("summary_columns", ("count", "amount"))

    def clean_encoding(self) -> str:
        encoding = self.cleaned_data["encoding"].strip()
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise forms.ValidationError(f"Неизвестная кодировка «{encoding}».") from None
        return encoding


class UploadForm(forms.Form):
    agent = forms.ModelChoiceField(
        label="Платёжный агент", queryset=PaymentAgent.objects.filter(is_active=True)
    )
    file = forms.FileField(
        label="Файл реестра", help_text="Файл в формате агента; итоговая строка — последняя."
    )

    def clean_file(self) -> UploadedFile:
        """A file over REGISTRY_MAX_BYTES is refused before it is read (the import refuses
        it too, however it is called)."""
        upload = self.cleaned_data["file"]
        if upload.size > settings.REGISTRY_MAX_BYTES:
            raise registries.too_large()
        return upload


class ResolveForm(forms.Form):
    account = AccountNumberField(help_text="Лицевой счёт, на который зачислить платёж.")


class AccrualForm(forms.Form):
    period = forms.ModelChoiceField(label="Расчётный период", queryset=Period.objects.all())
    agents = forms.ModelMultipleChoiceField(
        label="Агенты",
        queryset=PaymentAgent.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )


class DateRangeForm(forms.Form):
    date_from = forms.DateField(label="С")
    date_to = forms.DateField(label="По")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("Дата начала позже даты окончания.")
        if start and end and end - start > timedelta(days=366):
            raise forms.ValidationError("Сверка строится не больше чем за год.")
        return data


def _readable(entry: dict) -> dict:
    """A report entry for the page: a Russian date and a Decimal amount."""
    amount = entry["amount"]
    return {
        **entry,
        "date": ru_date(date.fromisoformat(entry["date"])),
        "amount": Decimal(amount) if amount else None,
    }


def _page(
    model_admin: admin.ModelAdmin, request: HttpRequest, template: str, title: str, **extra: object
) -> HttpResponse:
    return staff_page(model_admin, request, TEMPLATES + template, title, **extra)


def _form_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    title: str,
    form: forms.Form,
    submit: str,
    **extra: object,
) -> HttpResponse:
    return form_page(
        model_admin, request, title, form, submit=submit, template=TEMPLATES + "form.html", **extra
    )


@admin.register(PaymentAgent)
class PaymentAgentAdmin(admin.ModelAdmin):
    form = PaymentAgentForm
    list_display = ("name", "code", "encoding", "separator", "date_format", "is_active")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("name", "code", "is_active")}),
        (
            "Формат реестра платежей",
            {
                "fields": (
                    "encoding",
                    "separator",
                    "date_format",
                    "time_format",
                    "period_format",
                    "columns",
                    "readings_from",
                    "summary_prefix",
                    "summary_columns",
                )
            },
        ),
    )

    def has_delete_permission(self, request: HttpRequest, obj: PaymentAgent | None = None) -> bool:
        return False


@admin.register(RegistryImport)
class RegistryImportAdmin(admin.ModelAdmin):
    list_display = (
        "imported_at",
        "agent",
        "file_name",
        "order_number",
        "lines",
        "total",
        "booked",
        "booked_total",
        "skipped",
        "unidentified",
        "unidentified_total",
        "readings",
    )
    list_filter = ("agent",)
    search_fields = ("file_name", "order_number")
    list_select_related = ("agent",)
    date_hierarchy = "imported_at"
    change_list_template = TEMPLATES + "registryimport_change_list.html"

    def has_change_permission(
        self, request: HttpRequest, obj: RegistryImport | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: RegistryImport | None = None
    ) -> bool:
        return False

    def get_urls(self) -> list:
        return [
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="billing_registryimport_reconciliation",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """The upload: agent and file -> import -> the report page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST if request.method == "POST" else None, request.FILES or None)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                registry = registries.import_registry(
                    agent=form.cleaned_data["agent"],
                    data=upload,  # read in chunks, never whole
                    file_name=upload.name,
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Реестр «{registry.file_name}» загружен.")
                return HttpResponseRedirect(
                    reverse("admin:billing_registryimport_change", args=[registry.pk])
                )
        return _form_page(
            self, request, "Загрузка реестра платежей", form, "Загрузить", multipart=True
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """The import's report: counters and every line with its status and reason."""
        registry = get_object_or_404(RegistryImport.objects.select_related("agent"), pk=object_id)
        if not self.has_view_permission(request, registry):
            raise PermissionDenied
        sections = []
        for status, title in (
            (registries.Status.BOOKED, "Учтены"),
            (registries.Status.UNIDENTIFIED, "Невыясненные"),
            (registries.Status.SKIPPED, "Пропущены (уже учтены)"),
            (registries.Status.READING_ACCEPTED, "Показания приняты"),
            (registries.Status.READING_REFUSED, "Показания не приняты"),
        ):
            entries = [_readable(entry) for entry in registry.report if entry["status"] == status]
            if entries:
                sections.append({"status": status, "title": title, "entries": entries})
        return _page(
            self,
            request,
            "report.html",
            f"Протокол загрузки: {registry.file_name}",
            registry=registry,
            sections=sections,
        )

    def reconciliation_view(self, request: HttpRequest) -> HttpResponse:
        """Registries against booked payments, per agent and day."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DateRangeForm(request.GET or None)
        rows = None
        if form.is_valid():
            rows = registries.reconciliation_report(
                date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
            )
        return _page(
            self,
            request,
            "reconciliation.html",
            "Сверка реестров агентов с платежами",
            form=form,
            rows=rows,
        )


@admin.register(UnidentifiedPayment)
class UnidentifiedPaymentAdmin(admin.ModelAdmin):
    list_display = (
        "paid_on",
        "agent",
        "amount",
        "account_number",
        "payer",
        "address",
        "reason",
        "status",
        "resolve_link",
    )
    list_filter = ("status", "agent", "paid_on")
    search_fields = ("account_number", "payer", "address", "=external_id")
    list_select_related = ("agent", "payment__account")
    readonly_fields = (
        "agent",
        "registry",
        "line_number",
        "external_id",
        "paid_on",
        "amount",
        "account_number",
        "payer",
        "address",
        "period",
        "reason",
        "status",
        "payment",
        "resolved_by",
        "resolved_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: UnidentifiedPayment | None = None
    ) -> bool:
        return False  # only through the resolve page

    def has_delete_permission(
        self, request: HttpRequest, obj: UnidentifiedPayment | None = None
    ) -> bool:
        return False

    def can_resolve(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_unidentifiedpayment")

    @admin.display(description="")
    def resolve_link(self, item: UnidentifiedPayment) -> str:
        if item.status == UnidentifiedPayment.Status.RESOLVED:
            return f"л/с {item.payment.account.number}" if item.payment else "—"
        url = reverse("admin:billing_unidentifiedpayment_resolve", args=[item.pk])
        return format_html('<a href="{}">Зачислить на счёт</a>', url)

    def get_urls(self) -> list:
        return [
            path(
                "<int:item_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="billing_unidentifiedpayment_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request: HttpRequest, item_id: int) -> HttpResponse:
        """Staff name the account; the payment is booked to it."""
        if not self.can_resolve(request):
            raise PermissionDenied
        item = get_object_or_404(UnidentifiedPayment.objects.select_related("agent"), pk=item_id)
        form = ResolveForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                payment = registries.resolve_unidentified(
                    unidentified_id=item.pk,
                    account_id=form.cleaned_data["account"].pk,
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Платёж {format_rub(payment.amount)} от {payment.paid_on:%d.%m.%Y} "
                    f"зачислен на лицевой счёт {payment.account.number}.",
                )
                return HttpResponseRedirect(reverse("admin:billing_unidentifiedpayment_changelist"))
        return _form_page(
            self, request, "Зачисление невыясненного платежа", form, "Зачислить", item=item
        )


@admin.register(AccrualRegistry)
class AccrualRegistryAdmin(admin.ModelAdmin):
    list_display = ("period", "agent", "lines", "total", "created_at", "download_link")
    list_filter = ("period", "agent")
    list_select_related = ("period", "agent")

    def has_change_permission(
        self, request: HttpRequest, obj: AccrualRegistry | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AccrualRegistry | None = None
    ) -> bool:
        return False

    @admin.display(description="файл")
    def download_link(self, registry: AccrualRegistry) -> str:
        url = reverse("admin:billing_accrualregistry_download", args=[registry.pk])
        return format_html('<a href="{}">скачать</a>', url)

    def get_urls(self) -> list:
        return [
            path(
                "<int:registry_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="billing_accrualregistry_download",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """«Сформировать реестр начислений» for a period and the chosen agents."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AccrualForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            period = form.cleaned_data["period"]
            for agent in form.cleaned_data["agents"]:
                try:
                    registry = accruals.build_accrual_registry(agent=agent, period=period)
                except ValidationError as error:
                    for message in error.messages:
                        messages.error(request, f"{agent}: {message}")
                else:
                    messages.success(
                        request,
                        f"{agent}: реестр начислений за {period} сформирован, "
                        f"строк {registry.lines}, к оплате {format_rub(registry.total)}.",
                    )
            return HttpResponseRedirect(reverse("admin:billing_accrualregistry_changelist"))
        return _form_page(self, request, "Сформировать реестр начислений", form, "Сформировать")

    def download_view(self, request: HttpRequest, registry_id: int) -> FileResponse:
        """The file itself, to staff only (it lists names and addresses)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        registry = get_object_or_404(
            AccrualRegistry.objects.select_related("agent", "period"), pk=registry_id
        )
        name = f"{registry.agent.code}-{registry.period.month:%m%Y}.txt"
        return FileResponse(registry.file.open("rb"), as_attachment=True, filename=name)
