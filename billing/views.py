"""Cabinet pages of billing: balance and history, the penalty breakdown, receipts."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from accounts.models import PersonalAccount
from accounts.selectors import accounts_of_user
from billing import selectors, services
from billing.forms import ActPeriodForm
from billing.payments.reconciliation import (
    ReconciliationAct,
    reconciliation_act,
    render_reconciliation_act,
)
from billing.receipts import payee
from vodokanal.common import clock, law


def _account(request: HttpRequest, number: str) -> PersonalAccount:
    return get_object_or_404(accounts_of_user(request.user), number=number)


@require_GET
def channels(request: HttpRequest) -> HttpResponse:
    """The public list of ways to pay and to pass readings, with the payment details."""
    context = {"channels": selectors.payment_channels(), "payee": payee()}
    return render(request, "billing/channels.html", context)


@login_required
@require_GET
def finance(request: HttpRequest, number: str) -> HttpResponse:
    account = _account(request, number)
    today = clock.today()
    figures = selectors.account_figures(account, on=today)
    context = {
        "account": account,
        "figures": figures,
        "debts": [month for month in figures.months if month.unpaid],
        "history": Paginator(selectors.ledger_of(account), 25).get_page(request.GET.get("page")),
        "channels": selectors.payment_channels(),
        "today": today,
    }
    return render(request, "billing/finance.html", context)


@login_required
@require_GET
def penalty(request: HttpRequest, number: str) -> HttpResponse:
    account = _account(request, number)
    today = clock.today()
    tables = selectors.penalty_tables()
    figures = selectors.account_figures(account, on=today, tables=tables)
    context = {
        "account": account,
        "figures": figures,
        "result": figures.penalty.result,
        "tables": tables,
        "today": today,
        "penalty_basis": law.penalty_basis(account.subscriber.kind, law.services_of(account)),
        "penalty_rule": law.RULE[account.subscriber.kind],
    }
    return render(request, "billing/penalty.html", context)


@login_required
@require_GET
def receipts(request: HttpRequest, number: str) -> HttpResponse:
    account = _account(request, number)
    context = {"account": account, "periods": selectors.billed_periods(account)}
    return render(request, "billing/receipts.html", context)


@login_required
@require_GET
def receipt_pdf(request: HttpRequest, number: str, year: int, month: int) -> FileResponse:
    account = _account(request, number)
    try:
        first_day = date(year, month, 1)
    except ValueError:
        raise Http404 from None
    period = get_object_or_404(selectors.billed_periods(account), month=first_day)
    receipt = services.receipt_for(account=account, period=period)
    return FileResponse(
        receipt.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"kvitanciya-{account.number}-{first_day:%Y-%m}.pdf",
    )


@login_required
@require_GET
def reconciliation(request: HttpRequest, number: str) -> HttpResponse:
    """The reconciliation act of an organisation for the dates it chooses, as a PDF."""
    account = _account(request, number)
    if not account.subscriber.is_legal_entity:
        raise Http404
    form = ActPeriodForm(request.GET if "date_from" in request.GET else None)
    if form.is_valid():
        try:
            act = reconciliation_act(
                account.subscriber,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                accounts=accounts_of_user(request.user),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return act_response(act)
    context = {"account": account, "form": form}
    return render(
        request, "billing/reconciliation.html", context, status=400 if form.errors else 200
    )


def act_response(act: ReconciliationAct) -> HttpResponse:
    """The act as a PDF download (the cabinet and the admin both answer with it)."""
    response = HttpResponse(render_reconciliation_act(act), content_type="application/pdf")
    name = f"akt-sverki-{act.date_from:%Y%m%d}-{act.date_to:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def balance_panel(account: PersonalAccount) -> str:
    """The account page's money summary (settings.ACCOUNT_PANELS)."""
    context = {"account": account, "figures": selectors.account_figures(account, on=clock.today())}
    return render_to_string("billing/_balance_panel.html", context)
