"""The accountant's workplace: tariffs, norms, periods and runs, the ledger, payments,
key rates and moratoria, receipts. Money rows are read-only here: staff add payments and
corrections through forms that call the services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from billing import permissions, services
from billing.forms import AdjustmentForm, PaymentForm, StaffActForm
from billing.models import (
    BillingRun,
    KeyRate,
    LedgerEntry,
    Moratorium,
    Norm,
    Payment,
    PaymentChannel,
    Period,
    RateCap,
    Receipt,
    ReceiptBatch,
    Tariff,
)
from billing.payments.reconciliation import reconciliation_act
from billing.selectors import balance_of
from billing.views import act_response
from vodokanal.common.staff_pages import form_page


def _message_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@admin.register(Tariff)
class TariffAdmin(SimpleHistoryAdmin):
    list_display = ("service", "category", "price", "valid_from", "valid_to", "basis")
    list_filter = ("service", "category")
    date_hierarchy = "valid_from"


@admin.register(Norm)
class NormAdmin(SimpleHistoryAdmin):
    list_display = ("kind", "volume", "valid_from", "valid_to", "basis")
    list_filter = ("kind",)


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "last_run", "closed_at", "closed_by")
    list_filter = ("status",)
    fields = ("month", "status", "closed_at", "closed_by")
    actions = ["run_billing", "close", "issue_receipts"]

    def get_readonly_fields(self, request: HttpRequest, obj: Period | None = None) -> tuple:
        fields = ("status", "closed_at", "closed_by")
        return ("month", *fields) if obj else fields

    def has_delete_permission(self, request: HttpRequest, obj: Period | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Period]:
        return super().get_queryset(request).select_related("closed_by").prefetch_related("runs")

    @admin.display(description="последний расчёт")
    def last_run(self, period: Period) -> str:
        runs = sorted(period.runs.all(), key=lambda run: run.created_at)
        if not runs:
            return "—"
        run = runs[-1]
        url = reverse("admin:billing_billingrun_change", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, run.get_status_display())

    @admin.action(description="Запустить расчёт начислений", permissions=["change"])
    def run_billing(self, request: HttpRequest, queryset: QuerySet[Period]) -> HttpResponse | None:
        for period in queryset.order_by("month"):
            try:
                run = services.start_billing_run(month=period.month, user=request.user)
            except ValidationError as error:
                _message_errors(request, error)
                continue
            messages.success(request, f"Расчёт за {period} поставлен в очередь.")
            if queryset.count() == 1:
                return HttpResponseRedirect(
                    reverse("admin:billing_billingrun_change", args=[run.pk])
                )
        return None

    @admin.action(description="Закрыть период", permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Period]) -> None:
        for period in queryset.order_by("month"):
            try:
                services.close_period(period_id=period.pk, user=request.user)
            except ValidationError as error:
                _message_errors(request, error)
            else:
                messages.success(request, f"Период {period} закрыт.")

    @admin.action(description="Сформировать квитанции", permissions=["change"])
    def issue_receipts(self, request: HttpRequest, queryset: QuerySet[Period]) -> None:
        for period in queryset.order_by("month"):
            try:
                count = services.issue_receipts(period_id=period.pk)
            except ValidationError as error:
                _message_errors(request, error)
            else:
                messages.success(request, f"Квитанции за {period}: в очереди {count}.")


@admin.register(BillingRun)
class BillingRunAdmin(admin.ModelAdmin):
    list_display = (
        "period",
        "status",
        "progress",
        "accounts",
        "charged",
        "adjusted",
        "penalties",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    list_select_related = ("period",)
    readonly_fields = (
        "period", "status", "step", "progress", "accounts", "charged", "adjusted",
        "penalties", "debtors", "debtors_done", "started_by", "created_at", "started_at",
        "finished_at", "error",
    )  # fmt: skip
    fields = readonly_fields
    change_form_template = "admin/billing/billingrun/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BillingRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BillingRun | None = None) -> bool:
        return False

    @admin.display(description="ход расчёта")
    def progress(self, run: BillingRun) -> str:
        if run.status == BillingRun.Status.DONE:
            return "100 %"
        if run.status != BillingRun.Status.RUNNING:
            return run.get_status_display()
        # Charges are one statement: half the bar; penalties fill the rest by accounts.
        share = 0 if run.step != "Пени" else 50 + 50 * run.debtors_done // max(run.debtors, 1)
        return format_html(
            '<progress max="100" value="{}" aria-label="Ход расчёта">{} %</progress> {} — {} %',
            share,
            share,
            run.step,
            share,
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "period",
        "booked_on",
        "kind",
        "service",
        "volume",
        "basis",
        "amount",
        "reason",
    )
    list_filter = ("kind", "service", "basis", "period")
    search_fields = ("=account__number",)
    list_select_related = ("account", "period")
    show_full_result_count = False
    change_list_template = "admin/billing/ledgerentry/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LedgerEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LedgerEntry | None = None) -> bool:
        return False

    def get_urls(self) -> list:
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="billing_ledgerentry_adjust",
            ),
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="billing_ledgerentry_reconciliation",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and "cl" in response.context_data:
            # The balance of what the list shows: one account's when filtered by it.
            response.context_data["totals"] = balance_of(response.context_data["cl"].queryset)
        return response

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        kinds = [
            kind
            for kind, action in (("charge", "charge_correction"), ("penalty", "penalty_correction"))
            if permissions.may(request.user, action)
        ]
        if not kinds:
            raise PermissionDenied
        form = AdjustmentForm(request.POST if request.method == "POST" else None, kinds=kinds)
        if form.is_valid():
            data = form.cleaned_data
            penalty = data["kind"] == "penalty"
            try:
                entry = services.book_adjustment(
                    account_id=data["account"].pk,
                    amount=data["amount"],
                    reason=data["reason"],
                    user=request.user,
                    service="" if penalty else data["kind"],
                    for_month=data["for_month"],
                    penalty=penalty,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, f"Перерасчёт проведён: {entry.amount} ₽ в периоде {entry.period}."
                )
                url = reverse("admin:billing_ledgerentry_changelist")
                return HttpResponseRedirect(f"{url}?q={entry.account.number}")
        return form_page(self, request, "Перерасчёт (корректировка) в открытом периоде", form)

    def reconciliation_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = StaffActForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                act = reconciliation_act(
                    data["account"].subscriber, date_from=data["date_from"], date_to=data["date_to"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return act_response(act)
        return form_page(self, request, "Акт сверки с организацией", form)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "amount",
        "paid_on",
        "source",
        "external_id",
        "for_month",
        "for_penalty",
        "received_at",
    )
    list_filter = ("source", "for_penalty")
    search_fields = ("=account__number", "=external_id")
    list_select_related = ("account",)
    date_hierarchy = "paid_on"

    def has_change_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PaymentForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.enter_payment(
                    account_id=data["account"].pk,
                    amount=data["amount"],
                    paid_on=data["paid_on"],
                    source=data["source"],
                    external_id=data["external_id"],
                    for_month=data["for_month"],
                    for_penalty=data["for_penalty"],
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Платёж {payment} учтён.")
                return HttpResponseRedirect(reverse("admin:billing_payment_changelist"))
        return form_page(self, request, "Платёж через кассу или сотрудника", form)


@admin.register(KeyRate)
class KeyRateAdmin(SimpleHistoryAdmin):
    list_display = ("valid_from", "rate", "source")
    list_filter = ("source",)


@admin.register(Moratorium)
class MoratoriumAdmin(SimpleHistoryAdmin):
    list_display = ("date_from", "date_to", "months_ended_before", "is_active", "basis")


@admin.register(RateCap)
class RateCapAdmin(SimpleHistoryAdmin):
    list_display = ("date_from", "date_to", "rate", "basis")


@admin.register(ReceiptBatch)
class ReceiptBatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "receipts_count", "print_link", "rendered_at")
    list_filter = ("status", "period")
    list_select_related = ("period",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReceiptBatch | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReceiptBatch]:
        return super().get_queryset(request).annotate(receipts_total=Count("receipts"))

    @admin.display(description="квитанций")
    def receipts_count(self, batch: ReceiptBatch) -> int:
        return batch.receipts_total  # type: ignore[attr-defined]

    @admin.display(description="файл для печати")
    def print_link(self, batch: ReceiptBatch) -> str:
        if not batch.print_file:
            return "—"
        return format_html('<a href="{}">PDF</a>', batch.print_file.url)


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ("account", "period", "total_due", "pdf_link", "rendered_at")
    list_filter = ("period",)
    search_fields = ("=account__number",)
    list_select_related = ("account", "period")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Receipt | None = None) -> bool:
        return False

    @admin.display(description="PDF")
    def pdf_link(self, receipt: Receipt) -> str:
        if not receipt.pdf:
            return "в очереди"
        return format_html('<a href="{}">скачать</a>', receipt.pdf.url)


@admin.register(PaymentChannel)
class PaymentChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "pays", "takes_readings", "agent", "order", "is_active")
    list_editable = ("order", "is_active")
    list_filter = ("pays", "takes_readings", "is_active")
    list_select_related = ("agent",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


# The payment parts' admin pages live beside their code (billing/payments/).
from billing.payments.online import admin as online_admin  # noqa: E402, F401
from billing.payments.registries import admin as registry_admin  # noqa: E402, F401
