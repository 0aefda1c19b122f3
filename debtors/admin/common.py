"""Pieces every debtors admin page shares: read-only admins and inlines, labels, links to
documents, the payments after a court's decision."""

from datetime import date

from django.contrib import admin
from django.db.models import (
    DecimalField,
    OuterRef,
    Subquery,
    Sum,
)
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing.models import LedgerEntry
from debtors import selectors
from debtors.models import BulkJob, CourtCase, DebtDocument
from vodokanal.common.amount_words import rub
from vodokanal.common.money import ZERO
from vodokanal.common.staff_pages import change_url

MONEY = DecimalField(max_digits=14, decimal_places=2)
DASHBOARD_PERMISSION = "debtors.view_debt_dashboard"  # granted by migration 0004


# --- Shared pieces ---


def dmy(day: date | None) -> str:
    return f"{day:%d.%m.%Y}" if day else "—"


def payments_after_html(court_case: CourtCase) -> str:
    if court_case.decided_on is None:
        return "решения ещё нет"
    payments = list(selectors.payments_after_decision(court_case))
    total = -sum((entry.amount for entry in payments), ZERO)
    if not payments:
        return format_html("после {} платежей не было", dmy(court_case.decided_on))
    return format_html(
        "<strong>{}</strong> после {}: <ul>{}</ul>",
        rub(total),
        dmy(court_case.decided_on),
        format_html_join(
            "", "<li>{} — {}</li>", ((dmy(e.booked_on), rub(-e.amount)) for e in payments)
        ),
    )


def paid_after_subquery() -> Subquery:
    """Sum of the payments after the decision, per court case, for a list's column."""
    return Subquery(
        LedgerEntry.objects.filter(
            account_id=OuterRef("case__account_id"),
            kind=LedgerEntry.Kind.PAYMENT,
            booked_on__gt=OuterRef("decided_on"),
        )
        .order_by()
        .values("account_id")
        .annotate(total=-Sum("amount"))
        .values("total"),
        output_field=MONEY,
    )


class Labels:
    """Russian labels for model fields that have none (status, author, times, the case)."""

    @admin.display(description="состояние", ordering="status")
    def status_label(self, obj: object) -> str:
        return obj.get_status_display()  # type: ignore[attr-defined]

    @admin.display(description="сотрудник")
    def author(self, obj: object) -> str:
        user = getattr(obj, "created_by", None) or getattr(obj, "by", None)
        return str(user) if user else "—"

    @admin.display(description="записано", ordering="created_at")
    def created(self, obj: object) -> str:
        moment = getattr(obj, "created_at", None) or getattr(obj, "at", None)
        return f"{timezone.localtime(moment):%d.%m.%Y %H:%M}" if moment else "—"

    @admin.display(description="завершено", ordering="finished_at")
    def finished(self, obj: BulkJob) -> str:
        return f"{timezone.localtime(obj.finished_at):%d.%m.%Y %H:%M}" if obj.finished_at else "—"

    @admin.display(description="дело")
    def case_link(self, obj: object) -> str:
        case = obj.case  # type: ignore[attr-defined]
        return format_html('<a href="{}">{}</a>', change_url(case), case)


class ReadOnlyMixin:
    """Nobody adds, changes or deletes these rows here: only services write them."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, Labels, admin.ModelAdmin):
    """Rows that only services write: seen here, changed through the form pages, whose
    links (`tools`) the change page shows."""

    change_form_template = "admin/debtors/change_form.html"

    def tools(self, request: HttpRequest, obj: object) -> list[tuple[str, str]]:
        """Links to the form pages of one row: (url, label), only those the user may use."""
        return []

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        tools = self.tools(request, obj) if obj is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "tools": tools}
        )


class ReadOnlyInline(ReadOnlyMixin, Labels, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


def with_delivery_link(request: HttpRequest, names: tuple) -> tuple:
    """The link to the delivery form, for those who may record delivery."""
    if request.user.has_perm("debtors.change_debtdocument"):
        return names
    return tuple(name for name in names if name != "delivery_link")


def pdf_link_html(document: DebtDocument) -> str:
    if not document.pdf:
        return "формируется"
    return format_html('<a href="{}">PDF</a>', document.pdf.url)
