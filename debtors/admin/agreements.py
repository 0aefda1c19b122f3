"""Instalment agreements."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import (
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from billing.models import LedgerEntry
from debtors import selectors, services
from debtors.admin.common import MONEY, ReadOnlyAdmin, ReadOnlyInline
from debtors.admin.filters import StatusFilter
from debtors.admin.forms import AgreementForm
from debtors.models import (
    DebtCase,
    InstallmentAgreement,
    Instalment,
)
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.money import ZERO
from vodokanal.common.staff_pages import change_url, form_page, submitted

# --- Instalment agreements ---


class InstalmentInline(ReadOnlyInline):
    model = Instalment
    fields = ("due_on", "amount")
    readonly_fields = fields
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("debtors.view_installmentagreement")


@admin.register(InstallmentAgreement)
class InstallmentAgreementAdmin(ReadOnlyAdmin):
    list_display = ("number", "account", "signed_on", "total", "paid", "status_label", "ended_on")
    list_filter = (("status", StatusFilter),)
    search_fields = ("=number", "=case__account__number")
    list_select_related = ("case__account",)
    fields = (
        "case_link", "number", "signed_on", "total", "status_label", "ended_on", "progress",
        "author",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [InstalmentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("debtors.add_installmentagreement")

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstallmentAgreement]:
        paid = Subquery(
            LedgerEntry.objects.filter(
                account_id=OuterRef("case__account_id"),
                kind=LedgerEntry.Kind.PAYMENT,
                booked_on__gte=OuterRef("signed_on"),
            )
            .order_by()
            .values("account_id")
            .annotate(total=-Sum("amount"))
            .values("total"),
            output_field=MONEY,
        )
        return super().get_queryset(request).annotate(paid_since=Coalesce(paid, Value(ZERO)))

    @admin.display(description="л/с", ordering="case__account__number")
    def account(self, agreement: InstallmentAgreement) -> str:
        return agreement.case.account.number

    @admin.display(description="оплачено с даты соглашения")
    def paid(self, agreement: InstallmentAgreement) -> str:
        return rub(getattr(agreement, "paid_since", ZERO))

    @admin.display(description="исполнение")
    def progress(self, agreement: InstallmentAgreement) -> str:
        progress = selectors.agreement_progress(agreement, on=clock.today())
        return format_html(
            "оплачено {} из {}; наступило по графику {}{}",
            rub(progress.paid),
            rub(agreement.total),
            rub(progress.due),
            " — есть просроченный платёж" if progress.missed else "",
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {}
        case = DebtCase.objects.select_related("account").filter(pk=request.GET.get("case") or 0).first()  # fmt: skip
        if case is not None:
            initial["account"] = case.account.number
        form = AgreementForm(request.POST if request.method == "POST" else None, initial=initial)

        def act(data: dict) -> object:
            return services.sign_agreement(
                case_id=data["account"].pk,
                number=data["number"],
                signed_on=data["signed_on"],
                schedule=data["schedule"],
                by=request.user,
            )

        done = submitted(
            request,
            form,
            act,
            lambda agreement: f"{agreement} заключено: стадии дела приостановлены.",
            lambda agreement: change_url(agreement.case),
        )
        return done or form_page(self, request, "Соглашение о рассрочке", form, submit="Заключить")
