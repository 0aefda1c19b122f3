"""Cabinet pages of debt collection: the account's documents (notices, claims, warnings,
court papers) with their PDFs, and its instalment agreement with the schedule and what is
paid. Ownership is in the query (accounts_of_user): a foreign account is a 404."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.models import PersonalAccount
from accounts.selectors import accounts_of_user
from debtors import documents as debt_documents
from debtors.models import DebtDocument, InstallmentAgreement, Instalment
from debtors.selectors import AgreementProgress, agreement_progress
from vodokanal.common import clock
from vodokanal.common.money import ZERO


def _account(request: HttpRequest, number: str) -> PersonalAccount:
    return get_object_or_404(accounts_of_user(request.user), number=number)


# Reads for the cabinet. They belong in debtors/selectors.py (kept here while another
# engineer edits that module); the views only call them.


def cabinet_documents(account: PersonalAccount) -> QuerySet[DebtDocument]:
    """The account's rendered documents addressed to the subscriber, newest first; the
    crew's work orders are never shown."""
    return (
        DebtDocument.objects.filter(
            case__account=account,
            status=DebtDocument.Status.READY,
            kind__in=debt_documents.SUBSCRIBER_KINDS,
        )
        .exclude(pdf="")
        .order_by("-issued_on", "-pk")
    )


def cabinet_agreement(account: PersonalAccount) -> InstallmentAgreement | None:
    """The account's active instalment agreement, else its latest one."""
    active_first = Case(
        When(status=InstallmentAgreement.Status.ACTIVE, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        InstallmentAgreement.objects.filter(case__account=account)
        .prefetch_related("instalments")
        .order_by(active_first, "-signed_on", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ScheduleRow:
    due_on: date
    amount: Decimal
    paid: Decimal  # of this instalment, by the payments since the agreement, oldest first
    state: str  # "paid", "partial", "overdue", "due"

    @property
    def state_label(self) -> str:
        return {
            "paid": "Оплачен",
            "partial": "Оплачен частично",
            "overdue": "Просрочен",
            "due": "Ожидается",
        }[self.state]


def schedule_rows(
    instalments: list[Instalment], progress: AgreementProgress, *, today: date
) -> list[ScheduleRow]:
    """What the payments since signing cover, instalment by instalment in date order (the
    same sums agreement_progress compares)."""
    left = max(progress.paid, ZERO)
    rows = []
    for instalment in sorted(instalments, key=lambda item: item.due_on):
        covered = min(left, instalment.amount)
        left -= covered
        if covered == instalment.amount:
            state = "paid"
        elif instalment.due_on < today:
            state = "overdue"
        elif covered > ZERO:
            state = "partial"
        else:
            state = "due"
        rows.append(ScheduleRow(instalment.due_on, instalment.amount, covered, state))
    return rows


@login_required
@require_GET
def documents(request: HttpRequest, number: str) -> HttpResponse:
    account = _account(request, number)
    today = clock.today()
    agreement = cabinet_agreement(account)
    context: dict[str, object] = {
        "account": account,
        "documents": cabinet_documents(account).select_related("case"),
        "agreement": agreement,
        "today": today,
    }
    if agreement is not None:
        progress = agreement_progress(agreement, on=today)
        context["progress"] = progress
        context["schedule"] = schedule_rows(
            list(agreement.instalments.all()), progress, today=today
        )
        context["left_to_pay"] = max(agreement.total - progress.paid, ZERO)
    return render(request, "debtors/cabinet/documents.html", context)


@login_required
@require_GET
def document_pdf(request: HttpRequest, number: str, document_id: int) -> FileResponse:
    account = _account(request, number)
    document = get_object_or_404(cabinet_documents(account), pk=document_id)
    return FileResponse(
        document.pdf.open("rb"),
        content_type="application/pdf",
        filename=debt_documents.file_name(document),
    )
