"""Debt documents and their delivery."""

from django.contrib import admin
from django.db.models import (
    QuerySet,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from debtors import services
from debtors.admin.common import ReadOnlyAdmin, pdf_link_html, with_delivery_link
from debtors.admin.filters import StatusFilter
from debtors.admin.forms import DeliveryForm
from debtors.models import (
    DebtDocument,
)
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.staff_pages import change_url, form_page, require, submitted

# --- Documents ---


class DeliveredFilter(admin.SimpleListFilter):
    title = "вручение"
    parameter_name = "delivered"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("no", "не отправлен"), ("sent", "отправлен, не вручён"), ("yes", "вручён")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "no":
            return queryset.filter(sent_on__isnull=True)
        if self.value() == "sent":
            return queryset.filter(sent_on__isnull=False, delivered_on__isnull=True)
        if self.value() == "yes":
            return queryset.filter(delivered_on__isnull=False)
        return None


@admin.register(DebtDocument)
class DebtDocumentAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "account", "kind", "issued_on", "debt", "penalty", "status_label", "pdf_link",
        "delivery", "sent_on", "delivered_on", "delivery_link",
    )  # fmt: skip
    list_filter = ("kind", ("status", StatusFilter), "delivery", DeliveredFilter)
    search_fields = ("=number", "=case__account__number")
    list_select_related = ("case__account",)
    date_hierarchy = "issued_on"
    fields = (
        "case_link", "kind", "number", "issued_on", "period", "debt", "penalty", "deadline",
        "status_label", "pdf_link", "emailed_at", "delivery", "sent_on", "delivered_on",
        "author",
    )  # fmt: skip
    readonly_fields = fields

    def get_list_display(self, request: HttpRequest) -> tuple:
        return with_delivery_link(request, self.list_display)

    @admin.display(description="л/с", ordering="case__account__number")
    def account(self, document: DebtDocument) -> str:
        return document.case.account.number

    @admin.display(description="PDF")
    def pdf_link(self, document: DebtDocument) -> str:
        return pdf_link_html(document)

    @admin.display(description="")
    def delivery_link(self, document: DebtDocument) -> str:
        url = reverse("admin:debtors_debtdocument_delivery", args=[document.pk])
        return format_html('<a href="{}">Записать доставку</a>', url)

    def tools(self, request: HttpRequest, document: DebtDocument) -> list[tuple[str, str]]:
        if not request.user.has_perm("debtors.change_debtdocument"):
            return []
        return [(reverse("admin:debtors_debtdocument_delivery", args=[document.pk]), "Записать доставку")]  # fmt: skip

    def get_urls(self) -> list:
        return [
            path(
                "<int:document_id>/delivery/",
                self.admin_site.admin_view(self.delivery_view),
                name="debtors_debtdocument_delivery",
            ),
            *super().get_urls(),
        ]

    def delivery_view(self, request: HttpRequest, document_id: int) -> HttpResponse:
        require(request, "debtors.change_debtdocument")
        document = get_object_or_404(
            DebtDocument.objects.select_related("case__account"), pk=document_id
        )
        initial = {"method": document.delivery, "sent_on": document.sent_on or clock.today(),
                   "delivered_on": document.delivered_on}  # fmt: skip
        form = DeliveryForm(request.POST if request.method == "POST" else None, initial=initial)

        def act(data: dict) -> object:
            return services.record_delivery(
                document_id=document.pk,
                method=data["method"],
                sent_on=data["sent_on"],
                delivered_on=data["delivered_on"],
            )

        done = submitted(
            request, form, act, f"Доставка записана: {document}.", change_url(document.case)
        )
        about = [f"Лицевой счёт {document.case.account.number}; долг {rub(document.debt)}."]
        return done or form_page(
            self, request, f"Доставка: {document}", form, submit="Записать", about=about
        )
