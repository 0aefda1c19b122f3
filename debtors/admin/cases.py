"""Debt cases: the list with its filters, the case page with its history and inlines, bulk
actions, the dashboard, restriction and write-off."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import (
    F,
    QuerySet,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing import selectors as billing_selectors
from debtors import bulk, dashboard, services
from debtors.admin.common import (
    DASHBOARD_PERMISSION,
    ReadOnlyAdmin,
    ReadOnlyInline,
    dmy,
    paid_after_subquery,
    payments_after_html,
    pdf_link_html,
    with_delivery_link,
)
from debtors.admin.filters import AgeRangeFilter, DebtRangeFilter, PausedFilter
from debtors.admin.forms import CourtForm, RestrictForm, WriteOffForm
from debtors.models import (
    FINAL_STAGES,
    CaseEvent,
    CourtCase,
    DebtCase,
    DebtDocument,
    InstallmentAgreement,
    Restriction,
)
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.money import ZERO
from vodokanal.common.staff_pages import change_url, done_page, form_page, require, submitted

# --- The case and its inlines ---


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    verbose_name_plural = "история дела"
    fields = ("on", "from_label", "to_label", "reason", "debt", "author", "created")
    readonly_fields = fields
    ordering = ("at", "pk")
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("debtors.view_debtcase")  # the history is the case's

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).select_related("by")

    @admin.display(description="из стадии")
    def from_label(self, event: CaseEvent) -> str:
        return event.get_from_stage_display() or "—"

    @admin.display(description="в стадию")
    def to_label(self, event: CaseEvent) -> str:
        return event.get_to_stage_display()


class DocumentInline(ReadOnlyInline):
    model = DebtDocument
    fields = (
        "kind", "number", "issued_on", "debt", "penalty", "deadline", "pdf_link",
        "delivery", "sent_on", "delivered_on", "delivery_link",
    )  # fmt: skip
    readonly_fields = fields
    ordering = ("issued_on", "pk")

    def get_fields(self, request: HttpRequest, obj: object = None) -> tuple:
        return with_delivery_link(request, self.fields)

    @admin.display(description="PDF")
    def pdf_link(self, document: DebtDocument) -> str:
        return pdf_link_html(document)

    @admin.display(description="вручение")
    def delivery_link(self, document: DebtDocument) -> str:
        url = reverse("admin:debtors_debtdocument_delivery", args=[document.pk])
        return format_html('<a href="{}">Записать доставку</a>', url)


class CourtCaseInline(ReadOnlyInline):
    model = CourtCase
    fields = (
        "kind", "court", "number", "filed_on", "debt_claimed", "penalty_claimed", "state_fee",
        "decision", "decided_on", "awarded", "enforcement_number", "paid_after_decision",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CourtCase]:
        return super().get_queryset(request).annotate(paid_after=paid_after_subquery())

    @admin.display(description="оплачено после решения")
    def paid_after_decision(self, court_case: CourtCase) -> str:
        if court_case.decided_on is None:
            return "—"
        return rub(getattr(court_case, "paid_after", None) or ZERO)


class RestrictionInline(ReadOnlyInline):
    model = Restriction
    fields = ("method", "ordered_on", "restricted_on", "restore_ordered_on", "restored_on")
    readonly_fields = fields


class AgreementInline(ReadOnlyInline):
    model = InstallmentAgreement
    fields = ("number", "signed_on", "total", "status_label", "ended_on", "schedule")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstallmentAgreement]:
        return super().get_queryset(request).prefetch_related("instalments")

    @admin.display(description="график")
    def schedule(self, agreement: InstallmentAgreement) -> str:
        return _schedule_html(agreement)


def _schedule_html(agreement: InstallmentAgreement) -> str:
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{} — {}</li>",
            ((dmy(item.due_on), rub(item.amount)) for item in agreement.instalments.all()),
        ),
    )


@admin.register(DebtCase)
class DebtCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "account_number", "stage", "subscriber", "category", "debt_rub", "penalty_rub",
        "months_overdue", "age", "opened_on",
    )  # fmt: skip
    list_display_links = ("account_number",)
    list_filter = (
        "stage", "account__subscriber__kind", DebtRangeFilter, AgeRangeFilter, PausedFilter,
    )  # fmt: skip
    search_fields = ("=account__number", "account__subscriber__name", "=account__subscriber__inn")
    search_help_text = "Номер лицевого счёта, наименование или ФИО абонента, ИНН."
    list_select_related = ("account__subscriber",)
    fields = (
        "account", "subscriber", "category", "stage", "figures_today", "debt_rub", "penalty_rub",
        "overdue_since", "age", "months_overdue", "opened_on", "closed_on", "updated_on",
        "payments_after_decision",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [CaseEventInline, DocumentInline, CourtCaseInline, RestrictionInline, AgreementInline]
    actions = ["send_claims", "form_warnings", "hand_to_court"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DebtCase]:
        return super().get_queryset(request).select_related("account__subscriber")

    @admin.display(description="л/с", ordering="account__number")
    def account_number(self, case: DebtCase) -> str:
        return case.account.number

    @admin.display(description="абонент", ordering="account__subscriber__name")
    def subscriber(self, case: DebtCase) -> str:
        return case.account.subscriber.name

    @admin.display(description="на сегодня")
    def figures_today(self, case: DebtCase) -> str:
        """The account's figures as the subscriber's cabinet shows them today."""
        figures = billing_selectors.account_figures(case.account, on=clock.today())
        return render_to_string(
            "billing/_figures.html", {"figures": figures, "detailed": True, "staff": True}
        )

    @admin.display(description="просроченный долг на дату обновления", ordering="debt")
    def debt_rub(self, case: DebtCase) -> str:
        return rub(case.debt)

    @admin.display(description="пени в лицевом счёте", ordering="penalty")
    def penalty_rub(self, case: DebtCase) -> str:
        return rub(case.penalty)

    @admin.display(description="категория", ordering="account__subscriber__kind")
    def category(self, case: DebtCase) -> str:
        return case.account.subscriber.get_kind_display()

    @admin.display(description="дней просрочки", ordering=F("overdue_since").desc(nulls_last=True))
    def age(self, case: DebtCase) -> str:
        if case.overdue_since is None or case.closed_on is not None:
            return "—"
        return str(billing_selectors.days_of_delay(since=case.overdue_since, on=clock.today()))

    @admin.display(description="платежи после решения суда")
    def payments_after_decision(self, case: DebtCase) -> str:
        court_cases = list(case.court_cases.filter(decided_on__isnull=False).order_by("filed_on"))
        if not court_cases:
            return "—"
        return format_html_join(
            "",
            "<p>{} № {}: {}</p>",
            (
                (court_case.get_kind_display(), court_case.number or "—",
                 payments_after_html(court_case))
                for court_case in court_cases
            ),
        )  # fmt: skip

    # Links on the case page

    def tools(self, request: HttpRequest, case: DebtCase) -> list[tuple[str, str]]:
        if case.stage in FINAL_STAGES:
            return []
        links = []
        if request.user.has_perm("debtors.add_restriction"):
            links.append(
                (reverse("admin:debtors_debtcase_restrict", args=[case.pk]), "Ограничить подачу")
            )
        if request.user.has_perm("debtors.add_installmentagreement"):
            url = reverse("admin:debtors_installmentagreement_add")
            links.append((f"{url}?case={case.pk}", "Соглашение о рассрочке"))
        if request.user.has_perm("debtors.change_debtcase"):
            links.append((reverse("admin:debtors_debtcase_write_off", args=[case.pk]), "Списать"))
        return links  # fmt: skip

    # Bulk actions: a job for the worker, and its progress page

    def has_bulk_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.has_perm("debtors.change_debtcase") and user.has_perm("debtors.add_bulkjob")

    @admin.action(description="Направить претензии", permissions=["bulk"])
    def send_claims(
        self, request: HttpRequest, queryset: QuerySet[DebtCase]
    ) -> HttpResponse | None:
        return self._start(request, queryset, "send_claim", {})

    @admin.action(description="Сформировать предупреждения", permissions=["bulk"])
    def form_warnings(
        self, request: HttpRequest, queryset: QuerySet[DebtCase]
    ) -> HttpResponse | None:
        return self._start(request, queryset, "warn_restriction", {})

    @admin.action(description="Передать в суд", permissions=["bulk"])
    def hand_to_court(
        self, request: HttpRequest, queryset: QuerySet[DebtCase]
    ) -> HttpResponse | None:
        form = CourtForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._start(
                request, queryset, "go_to_court", {"court": form.cleaned_data["court"]}
            )
        ids = list(queryset.values_list("pk", flat=True))
        hidden = [("action", "hand_to_court"), ("apply", "1")]
        hidden += [(admin.helpers.ACTION_CHECKBOX_NAME, pk) for pk in ids]
        return form_page(
            self, request, "Передать дела в суд", form, submit="Передать в суд",
            about=[f"Выбрано дел: {len(ids)}. Для каждого будет сформировано заявление о "
                   "вынесении судебного приказа или исковое заявление с госпошлиной; дела, "
                   "которые передать нельзя, будут перечислены с причиной."],
            hidden=hidden,
        )  # fmt: skip

    def _start(
        self, request: HttpRequest, queryset: QuerySet[DebtCase], action: str, params: dict
    ) -> HttpResponse | None:
        try:
            job = bulk.start_bulk(
                action=action,
                case_ids=list(queryset.values_list("pk", flat=True)),
                params=params,
                user=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return None
        return done_page(
            request,
            f"«{bulk.action_label(action)}»: дел в очереди — {job.total}.",
            reverse("admin:debtors_bulkjob_change", args=[job.pk]),
        )

    # Custom pages

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="debtors_debtcase_dashboard"),
            path("<int:case_id>/restrict/", view(self.restrict_view), name="debtors_debtcase_restrict"),
            path("<int:case_id>/write-off/", view(self.write_off_view), name="debtors_debtcase_write_off"),
            *super().get_urls(),
        ]  # fmt: skip

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        require(request, DASHBOARD_PERMISSION)
        context = {
            **self.admin_site.each_context(request),
            "title": "Сводка по задолженности",
            "opts": self.model._meta,
            "data": dashboard.dashboard(),
        }
        return render(request, "admin/debtors/dashboard.html", context)

    def restrict_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        require(request, "debtors.add_restriction")
        case = get_object_or_404(DebtCase.objects.select_related("account"), pk=case_id)
        form = RestrictForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.restrict(
                case_id=case.pk, method=data["method"], on=data["on"], by=request.user
            )

        done = submitted(request, form, act, "Наряд на ограничение выдан.", change_url(case))
        return done or form_page(self, request, f"Ограничение подачи: {case}", form, submit="Выдать наряд")  # fmt: skip

    def write_off_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        require(request, "debtors.change_debtcase")
        case = get_object_or_404(DebtCase.objects.select_related("account"), pk=case_id)
        form = WriteOffForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.write_off(
                case_id=case.pk, reason=data["reason"], on=data["on"], by=request.user
            )

        done = submitted(request, form, act, "Долг списан, дело закрыто.", change_url(case))
        return done or form_page(self, request, f"Списание: {case}", form, submit="Списать")  # fmt: skip
