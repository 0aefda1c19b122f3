"""The lawyer's workplace (docs/architecture.md §9): debt cases with their filters, full history,
documents and their delivery, court cases with the payments after the decision,
restrictions, instalment agreements; bulk actions run by a worker with their progress; the
dashboard. Figures are read-only here: every move goes through a form page that calls the
service, which checks the legal preconditions and answers in Russian."""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing import selectors as billing_selectors
from billing.models import LedgerEntry
from debtors import bulk, dashboard, selectors, services
from debtors.models import (
    FINAL_STAGES,
    BulkJob,
    CaseEvent,
    CourtCase,
    DebtCase,
    DebtDocument,
    InstallmentAgreement,
    Instalment,
    Restriction,
    StateFeeBand,
)
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.money import ZERO

MONEY = DecimalField(max_digits=14, decimal_places=2)
DASHBOARD_PERMISSION = "debtors.view_debt_dashboard"  # granted by migration 0004


# --- Forms: input shape only; the rules live in debtors.services ---


def _date_field(
    label: str, *, required: bool = True, initial: object = None, help_text: str = ""
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        help_text=help_text,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


class CourtForm(forms.Form):
    court = forms.CharField(
        label="Суд",
        max_length=300,
        help_text="Мировой судья — для заявлений о судебном приказе (граждане), арбитражный "
        "суд — для исков к организациям. Отберите дела фильтром «вид абонента».",
    )


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(label="Способ доставки", choices=DebtDocument.Delivery.choices)
    sent_on = _date_field("Дата отправки (передачи)", initial=clock.today)
    delivered_on = _date_field(
        "Дата вручения",
        required=False,
        help_text="Сроки считаются со дня вручения. Вручено лично под подпись — та же дата, "
        "что и передача; пусто — пока не вручено.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Решение",
        choices=[choice for choice in CourtCase.Decision.choices if choice[0] != "pending"],
    )
    decided_on = _date_field("Дата решения")
    awarded = forms.DecimalField(
        label="Взыскано по решению, ₽",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )


class EnforcementForm(forms.Form):
    writ_number = forms.CharField(label="Исполнительный документ (номер)", max_length=50)
    enforcement_number = forms.CharField(label="Исполнительное производство (номер)", max_length=50)
    started_on = _date_field("Дата возбуждения ИП")


class RestrictForm(forms.Form):
    method = forms.ChoiceField(label="Способ ограничения", choices=Restriction.Method.choices)
    on = _date_field("Дата наряда", initial=clock.today)


class RestrictedForm(forms.Form):
    restricted_on = _date_field("Дата ограничения", initial=clock.today)


class RestoredForm(forms.Form):
    restored_on = _date_field("Дата возобновления", initial=clock.today)


class WriteOffForm(forms.Form):
    reason = forms.CharField(label="Основание списания", max_length=300)
    on = _date_field("Дата", initial=clock.today)


class AgreementForm(forms.Form):
    account = forms.CharField(label="Лицевой счёт", max_length=20)
    number = forms.CharField(label="Номер соглашения", max_length=30)
    signed_on = _date_field("Дата соглашения", initial=clock.today)
    schedule = forms.CharField(
        label="График платежей",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text="Каждый платёж на своей строке: «дата;сумма», например «10.05.2025;1500,00».",
    )

    def clean_account(self) -> DebtCase:
        number = self.cleaned_data["account"].strip()
        case = DebtCase.objects.filter(account__number=number, closed_on__isnull=True).first()
        if case is None:
            raise forms.ValidationError("Открытого дела по этому лицевому счёту нет.")
        return case

    def clean_schedule(self) -> list[tuple[date, Decimal]]:
        schedule, errors = [], []
        lines = [line.strip() for line in self.cleaned_data["schedule"].splitlines()]
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            parts = [part.strip() for part in line.split(";")]
            due = _parse_date(parts[0]) if len(parts) == 2 else None
            amount = _parse_amount(parts[1]) if len(parts) == 2 else None
            if due is None or amount is None:
                errors.append(f"Строка {number}: нужно «дд.мм.гггг;сумма», а не «{line}».")
                continue
            schedule.append((due, amount))
        if errors:
            raise forms.ValidationError(errors)
        return schedule


def _parse_date(text: str) -> date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def _parse_amount(text: str) -> Decimal | None:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("₽", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


# --- Shared pieces ---


def _page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    title: str,
    form: forms.Form,
    *,
    submit: str,
    about: list[str] | None = None,
    hidden: list[tuple[str, object]] | None = None,
) -> HttpResponse:
    """A staff form page inside the admin's layout: what it is about, the form, the button."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "opts": model_admin.model._meta,
        "submit": submit,
        "about": about or [],
        "hidden": hidden or [],
    }
    return render(request, "admin/debtors/form_page.html", context)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _done(request: HttpRequest, text: str, url: str) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(url)


def _change_url(obj: object) -> str:
    meta = obj._meta  # type: ignore[attr-defined]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])  # type: ignore[attr-defined]


def _dmy(day: date | None) -> str:
    return f"{day:%d.%m.%Y}" if day else "—"


def _payments_after_html(court_case: CourtCase) -> str:
    if court_case.decided_on is None:
        return "решения ещё нет"
    payments = list(selectors.payments_after_decision(court_case))
    total = -sum((entry.amount for entry in payments), ZERO)
    if not payments:
        return format_html("после {} платежей не было", _dmy(court_case.decided_on))
    return format_html(
        "<strong>{}</strong> после {}: <ul>{}</ul>",
        rub(total),
        _dmy(court_case.decided_on),
        format_html_join(
            "", "<li>{} — {}</li>", ((_dmy(e.booked_on), rub(-e.amount)) for e in payments)
        ),
    )


def _paid_after_subquery() -> Subquery:
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
        return format_html('<a href="{}">{}</a>', _change_url(case), case)


class ReadOnlyAdmin(Labels, admin.ModelAdmin):
    """Rows that only services write: seen here, changed through the form pages, whose
    links (`tools`) the change page shows."""

    change_form_template = "admin/debtors/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

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


class ReadOnlyInline(Labels, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- List filters of cases ---


class StatusFilter(admin.ChoicesFieldListFilter):
    """The choices of a `status` field that has no verbose name, under a Russian title."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.title = "состояние"


class ActionFilter(admin.SimpleListFilter):
    title = "действие"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(name, action.label) for name, action in bulk.ACTIONS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return queryset.filter(action=self.value()) if self.value() else None


class DebtRangeFilter(admin.SimpleListFilter):
    title = "сумма долга"
    parameter_name = "debt_range"
    RANGES = {
        "10k": ("до 10 000 ₽", None, Decimal(10000)),
        "50k": ("10–50 тыс. ₽", Decimal(10000), Decimal(50000)),
        "300k": ("50–300 тыс. ₽", Decimal(50000), Decimal(300000)),
        "more": ("свыше 300 тыс. ₽", Decimal(300000), None),
    }  # bounds: over the lower, up to and including the upper

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(key, label) for key, (label, _, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() not in self.RANGES:
            return None
        _, low, high = self.RANGES[self.value()]
        if low is not None:
            queryset = queryset.filter(debt__gt=low)
        if high is not None:
            queryset = queryset.filter(debt__lte=high)
        return queryset


class AgeRangeFilter(admin.SimpleListFilter):
    title = "давность просрочки"
    parameter_name = "age"
    RANGES = {
        "30": ("до 30 дней", None, 30),
        "90": ("31–90 дней", 30, 90),
        "180": ("91–180 дней", 90, 180),
        "more": ("свыше 180 дней", 180, None),
    }  # days overdue (billing days_of_delay): over the lower, up to and including the upper

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(key, label) for key, (label, _, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() not in self.RANGES:
            return None
        _, low, high = self.RANGES[self.value()]
        today = clock.today()
        queryset = queryset.filter(overdue_since__isnull=False)
        # days = today - overdue_since + 1 (overdue_since is day 1)
        if low is not None:  # days > low  <=>  overdue_since <= today - low
            queryset = queryset.filter(overdue_since__lte=today - timedelta(days=low))
        if high is not None:  # days <= high  <=>  overdue_since > today - high
            queryset = queryset.filter(overdue_since__gt=today - timedelta(days=high))
        return queryset


class PausedFilter(admin.SimpleListFilter):
    title = "соглашение о рассрочке"
    parameter_name = "paused"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "действует (стадии приостановлены)"), ("no", "не действует")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        active = Exists(
            InstallmentAgreement.objects.filter(
                case=OuterRef("pk"), status=InstallmentAgreement.Status.ACTIVE
            )
        )
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return None


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
        return _with_delivery_link(request, self.fields)

    @admin.display(description="PDF")
    def pdf_link(self, document: DebtDocument) -> str:
        return _pdf_link(document)

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
        return super().get_queryset(request).annotate(paid_after=_paid_after_subquery())

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
            ((_dmy(item.due_on), rub(item.amount)) for item in agreement.instalments.all()),
        ),
    )


def _with_delivery_link(request: HttpRequest, names: tuple) -> tuple:
    """The link to the delivery form, for those who may record delivery."""
    if request.user.has_perm("debtors.change_debtdocument"):
        return names
    return tuple(name for name in names if name != "delivery_link")


def _pdf_link(document: DebtDocument) -> str:
    if not document.pdf:
        return "формируется"
    return format_html('<a href="{}">PDF</a>', document.pdf.url)


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
                 _payments_after_html(court_case))
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
        return _page(
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
        return _done(
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
        _require(request, DASHBOARD_PERMISSION)
        context = {
            **self.admin_site.each_context(request),
            "title": "Сводка по задолженности",
            "opts": self.model._meta,
            "data": dashboard.dashboard(),
        }
        return render(request, "admin/debtors/dashboard.html", context)

    def restrict_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        _require(request, "debtors.add_restriction")
        case = get_object_or_404(DebtCase.objects.select_related("account"), pk=case_id)
        form = RestrictForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.restrict(
                    case_id=case.pk, method=data["method"], on=data["on"], by=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Наряд на ограничение выдан.", _change_url(case))
        return _page(self, request, f"Ограничение подачи: {case}", form, submit="Выдать наряд")  # fmt: skip

    def write_off_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        _require(request, "debtors.change_debtcase")
        case = get_object_or_404(DebtCase.objects.select_related("account"), pk=case_id)
        form = WriteOffForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.write_off(
                    case_id=case.pk, reason=data["reason"], on=data["on"], by=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Долг списан, дело закрыто.", _change_url(case))
        return _page(self, request, f"Списание: {case}", form, submit="Списать")  # fmt: skip


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
        return _with_delivery_link(request, self.list_display)

    @admin.display(description="л/с", ordering="case__account__number")
    def account(self, document: DebtDocument) -> str:
        return document.case.account.number

    @admin.display(description="PDF")
    def pdf_link(self, document: DebtDocument) -> str:
        return _pdf_link(document)

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
        _require(request, "debtors.change_debtdocument")
        document = get_object_or_404(
            DebtDocument.objects.select_related("case__account"), pk=document_id
        )
        initial = {"method": document.delivery, "sent_on": document.sent_on or clock.today(),
                   "delivered_on": document.delivered_on}  # fmt: skip
        form = DeliveryForm(request.POST if request.method == "POST" else None, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_delivery(
                    document_id=document.pk,
                    method=data["method"],
                    sent_on=data["sent_on"],
                    delivered_on=data["delivered_on"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, f"Доставка записана: {document}.", _change_url(document.case))
        about = [f"Лицевой счёт {document.case.account.number}; долг {rub(document.debt)}."]
        return _page(self, request, f"Доставка: {document}", form, submit="Записать", about=about)


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
        return super().get_queryset(request).annotate(paid_after=_paid_after_subquery())

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
        return _payments_after_html(court_case)

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
        _require(request, "debtors.change_courtcase")
        court_case = get_object_or_404(CourtCase, pk=court_case_id)
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_decision(
                    court_case_id=court_case.pk,
                    decision=data["decision"],
                    decided_on=data["decided_on"],
                    awarded=data["awarded"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Решение суда записано.", _change_url(court_case))
        about = [f"Заявлено: долг {rub(court_case.debt_claimed)}, пени {rub(court_case.penalty_claimed)}, "
                 f"госпошлина {rub(court_case.state_fee)}."]  # fmt: skip
        return _page(self, request, f"Решение суда: {court_case}", form, submit="Записать", about=about)  # fmt: skip

    def enforcement_view(self, request: HttpRequest, court_case_id: int) -> HttpResponse:
        _require(request, "debtors.change_courtcase")
        court_case = get_object_or_404(CourtCase, pk=court_case_id)
        form = EnforcementForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.start_enforcement(
                    court_case_id=court_case.pk,
                    writ_number=data["writ_number"],
                    enforcement_number=data["enforcement_number"],
                    started_on=data["started_on"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Исполнительное производство записано.", _change_url(court_case))  # fmt: skip
        return _page(self, request, f"Исполнение: {court_case}", form, submit="Записать")


# --- Restrictions ---


class RestrictionStateFilter(admin.SimpleListFilter):
    title = "состояние"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("ordered", "наряд выдан, не выполнен"),
            ("restricted", "подача ограничена"),
            ("to_restore", "ждёт возобновления"),
            ("restored", "возобновлено"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return {
            "ordered": lambda: queryset.filter(restricted_on__isnull=True),
            "restricted": lambda: queryset.filter(restricted_on__isnull=False, restored_on__isnull=True),
            "to_restore": lambda: queryset.filter(restore_ordered_on__isnull=False, restored_on__isnull=True),
            "restored": lambda: queryset.filter(restored_on__isnull=False),
        }.get(self.value() or "", lambda: None)()  # fmt: skip


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = (
        "account", "method", "ordered_on", "restricted_on", "restore_ordered_on", "restored_on",
    )  # fmt: skip
    list_filter = ("method", RestrictionStateFilter)
    search_fields = ("=case__account__number",)
    list_select_related = ("case__account",)
    fields = (
        "case_link", "method", "ordered_on", "restricted_on", "restore_ordered_on", "restored_on",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="л/с", ordering="case__account__number")
    def account(self, restriction: Restriction) -> str:
        return restriction.case.account.number

    def tools(self, request: HttpRequest, restriction: Restriction) -> list[tuple[str, str]]:
        if not request.user.has_perm("debtors.change_restriction"):
            return []
        links = []
        if restriction.restricted_on is None:
            links.append(
                (
                    reverse("admin:debtors_restriction_restricted", args=[restriction.pk]),
                    "Ограничение выполнено",
                )
            )
        if restriction.restore_ordered_on and restriction.restored_on is None:
            links.append(
                (
                    reverse("admin:debtors_restriction_restored", args=[restriction.pk]),
                    "Подача возобновлена",
                )
            )
        return links  # fmt: skip

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:restriction_id>/restricted/", view(self.restricted_view), name="debtors_restriction_restricted"),
            path("<int:restriction_id>/restored/", view(self.restored_view), name="debtors_restriction_restored"),
            *super().get_urls(),
        ]  # fmt: skip

    def restricted_view(self, request: HttpRequest, restriction_id: int) -> HttpResponse:
        _require(request, "debtors.change_restriction")
        restriction = get_object_or_404(Restriction, pk=restriction_id)
        form = RestrictedForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                services.record_restricted(
                    restriction_id=restriction.pk, restricted_on=form.cleaned_data["restricted_on"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Ограничение записано.", _change_url(restriction))
        return _page(self, request, f"Выполнено: {restriction}", form, submit="Записать")

    def restored_view(self, request: HttpRequest, restriction_id: int) -> HttpResponse:
        _require(request, "debtors.change_restriction")
        restriction = get_object_or_404(Restriction, pk=restriction_id)
        form = RestoredForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                services.record_restored(
                    restriction_id=restriction.pk, restored_on=form.cleaned_data["restored_on"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, "Возобновление записано.", _change_url(restriction))
        return _page(self, request, f"Возобновление: {restriction}", form, submit="Записать")


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
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement = services.sign_agreement(
                    case_id=data["account"].pk,
                    number=data["number"],
                    signed_on=data["signed_on"],
                    schedule=data["schedule"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _done(request, f"{agreement} заключено: стадии дела приостановлены.", _change_url(agreement.case))  # fmt: skip
        return _page(self, request, "Соглашение о рассрочке", form, submit="Заключить")


# --- Reference data and jobs ---


@admin.register(StateFeeBand)
class StateFeeBandAdmin(admin.ModelAdmin):
    """The state-fee scale is data the lawyer keeps current when the Tax Code changes."""

    list_display = ("scale", "up_to", "base", "percent", "over", "min_fee", "max_fee")
    list_filter = ("scale",)
    # The Russian decimal comma: "4000,00".
    formfield_overrides = {models.DecimalField: {"localize": True}}


@admin.register(BulkJob)
class BulkJobAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status_label", "progress", "author", "created", "finished")  # fmt: skip
    list_filter = (("status", StatusFilter), ActionFilter)
    list_select_related = ("created_by",)
    fields = (
        "title", "status_label", "progress", "total", "done", "failed", "court", "on",
        "refusals", "author", "created", "finished",
    )  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/debtors/bulkjob/change_form.html"

    def tools(self, request: HttpRequest, job: BulkJob) -> list[tuple[str, str]]:
        if job.status == BulkJob.Status.DONE or request.GET.get("norefresh"):
            return []
        return [("?norefresh=1", "Не обновлять страницу")]  # the page reloads every 3 s

    @admin.display(description="№", ordering="pk")
    def number(self, job: BulkJob) -> str:
        return str(job.pk)

    @admin.display(description="действие", ordering="action")
    def title(self, job: BulkJob) -> str:
        return bulk.action_label(job.action)

    @admin.display(description="дата документов")
    def on(self, job: BulkJob) -> str:
        day = job.params.get("on")
        return _dmy(date.fromisoformat(day)) if day else "—"

    @admin.display(description="суд")
    def court(self, job: BulkJob) -> str:
        return job.params.get("court") or "—"

    @admin.display(description="ход")
    def progress(self, job: BulkJob) -> str:
        processed = job.done + job.failed
        return format_html(
            '<progress max="{}" value="{}" aria-label="Обработано дел">{} из {}</progress> '
            "обработано {} из {}",
            max(job.total, 1), processed, processed, job.total, processed, job.total,
        )  # fmt: skip

    @admin.display(description="отказы")
    def refusals(self, job: BulkJob) -> str:
        if not job.errors:
            return "нет"
        rows = (
            (reverse("admin:debtors_debtcase_change", args=[error["case"]]),
             error.get("account") or error["case"], error["reason"])
            for error in job.errors
        )  # fmt: skip
        return format_html(
            '<table class="bulk-refusals"><thead><tr><th scope="col">Лицевой счёт</th>'
            '<th scope="col">Причина отказа</th></tr></thead><tbody>{}</tbody></table>',
            format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td></tr>', rows),
        )
