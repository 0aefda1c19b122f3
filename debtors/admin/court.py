"""Court cases: the court's decision and enforcement."""

from django.contrib import admin
from django.db.models import (
    QuerySet,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from debtors import services
from debtors.admin.common import ReadOnlyAdmin, paid_after_subquery, payments_after_html
from debtors.admin.forms import DecisionForm, EnforcementForm
from debtors.models import (
    CourtCase,
)
from vodokanal.common.amount_words import rub
from vodokanal.common.money import ZERO
from vodokanal.common.staff_pages import change_url, form_page, require, submitted

# --- Court cases ---


@admin.register(CourtCase)
class CourtCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "account", "filed_on", "debt_claimed", "penalty_claimed", "state_fee",
        "decision", "decided_on", "awarded", "paid_after_decision",
    )  # fmt: skip
    list_filter = ("kind", "decision")
    search_fields = ("number", "=case__account__number", "court")
    list_select_related = ("case__account",)
    fields = (
        "case_link", "kind", "court", "number", "filed_on", "hearing_on", "debt_claimed",
        "penalty_claimed", "state_fee", "decision", "decided_on", "awarded", "writ_number",
        "enforcement_number", "enforcement_started_on", "payments_after_decision",
    )  # fmt: skip
    editable = ("court", "number", "hearing_on")  # plain facts of the court, no rule behind them

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("debtors.change_courtcase")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [name for name in self.fields if name not in self.editable]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CourtCase]:
        return super().get_queryset(request).annotate(paid_after=paid_after_subquery())

    @admin.display(description="л/с", ordering="case__account__number")
    def account(self, court_case: CourtCase) -> str:
        return court_case.case.account.number

    @admin.display(description="оплачено после решения")
    def paid_after_decision(self, court_case: CourtCase) -> str:
        if court_case.decided_on is None:
            return "—"
        return rub(getattr(court_case, "paid_after", None) or ZERO)

    @admin.display(description="платежи после решения")
    def payments_after_decision(self, court_case: CourtCase) -> str:
        return payments_after_html(court_case)

    def tools(self, request: HttpRequest, court_case: CourtCase) -> list[tuple[str, str]]:
        if not request.user.has_perm("debtors.change_courtcase"):
            return []
        return [
            (reverse("admin:debtors_courtcase_decision", args=[court_case.pk]), "Решение суда"),
            (reverse("admin:debtors_courtcase_enforcement", args=[court_case.pk]), "Исполнение"),
        ]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:court_case_id>/decision/", view(self.decision_view), name="debtors_courtcase_decision"),
            path("<int:court_case_id>/enforcement/", view(self.enforcement_view), name="debtors_courtcase_enforcement"),
            *super().get_urls(),
        ]  # fmt: skip

    def decision_view(self, request: HttpRequest, court_case_id: int) -> HttpResponse:
        require(request, "debtors.change_courtcase")
        court_case = get_object_or_404(CourtCase, pk=court_case_id)
        form = DecisionForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.record_decision(
                court_case_id=court_case.pk,
                decision=data["decision"],
                decided_on=data["decided_on"],
                awarded=data["awarded"],
                by=request.user,
            )

        done = submitted(request, form, act, "Решение суда записано.", change_url(court_case))
        about = [
            f"Заявлено: долг {rub(court_case.debt_claimed)}, пени {rub(court_case.penalty_claimed)}, "
            f"госпошлина {rub(court_case.state_fee)}."
        ]
        return done or form_page(
            self, request, f"Решение суда: {court_case}", form, submit="Записать", about=about
        )

    def enforcement_view(self, request: HttpRequest, court_case_id: int) -> HttpResponse:
        require(request, "debtors.change_courtcase")
        court_case = get_object_or_404(CourtCase, pk=court_case_id)
        form = EnforcementForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.start_enforcement(
                court_case_id=court_case.pk,
                writ_number=data["writ_number"],
                enforcement_number=data["enforcement_number"],
                started_on=data["started_on"],
                by=request.user,
            )

        done = submitted(
            request, form, act, "Исполнительное производство записано.", change_url(court_case)
        )
        return done or form_page(
            self, request, f"Исполнение: {court_case}", form, submit="Записать"
        )
