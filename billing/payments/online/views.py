"""Online payment pages: the cabinet's pay form and status page, the gateways' webhook, and
the demo bank (docs/architecture.md §8). Rules live in billing.payments.online.services."""

import json
import logging
from datetime import date
from decimal import Decimal
from typing import cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import PersonalAccount, User
from accounts.selectors import accounts_of_user
from billing import selectors
from billing.models import OnlinePayment
from billing.payments.online import gateways
from billing.payments.online import services as online
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.russian import month_ru
from vodokanal.proxy import client_ip

logger = logging.getLogger(__name__)

WEBHOOK_MAX_BYTES = 64 * 1024


class OnlinePaymentForm(forms.Form):
    """Shape only: an amount with the Russian decimal comma and an optional billed month.
    Limits and the month's sense are checked by billing.payments.online.services.start_online_payment."""

    amount = forms.DecimalField(
        label="Сумма, ₽",
        max_digits=14,
        decimal_places=2,
        localize=True,  # accept "1234,50"
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": "Укажите сумму.", "invalid": "Введите сумму числом."},
    )
    for_month = forms.TypedChoiceField(
        label="За какой месяц",
        required=False,
        coerce=date.fromisoformat,
        empty_value=None,
        help_text="Если месяц не выбран, оплата пойдёт в счёт самого раннего долга.",
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        account: PersonalAccount,
        initial: dict[str, object] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        unpaid = {debt.month: debt.unpaid for debt in selectors.debt_by_month(account)}
        months = selectors.billed_periods(account).values_list("month", flat=True)[:12]
        field = cast(forms.TypedChoiceField, self.fields["for_month"])
        field.choices = [
            ("", "Не указывать"),
            *(
                (
                    month.isoformat(),
                    month_ru(month)
                    + (f" — долг {rub(unpaid[month])}" if unpaid.get(month, 0) > 0 else ""),
                )
                for month in months
            ),
        ]


def _account(request: HttpRequest, number: str) -> PersonalAccount:
    return get_object_or_404(accounts_of_user(request.user), number=number)


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, number: str) -> HttpResponse:
    account = _account(request, number)
    initial = {"amount": online.suggested_amount(account)}
    data = request.POST if request.method == "POST" else None
    form = OnlinePaymentForm(data, initial=initial, account=account)
    if form.is_valid():
        try:
            payment = online.start_online_payment(
                account=account,
                amount=form.cleaned_data["amount"],
                for_month=form.cleaned_data["for_month"],
                user=cast(User, request.user),  # login_required
                return_url=lambda row: request.build_absolute_uri(
                    reverse("online:status", args=[row.idempotence_key])
                ),
            )
        except ValidationError as error:
            form.add_error(
                "amount" if error.code and error.code.startswith("amount") else None, error
            )
        except gateways.GatewayError as error:
            form.add_error(None, f"{error.message} Деньги не списаны.")
        else:
            return redirect(payment.confirmation_url)
    figures = selectors.account_figures(account, on=clock.today())
    context = {"account": account, "form": form, "figures": figures}
    return render(request, "billing/online/pay.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def status(request: HttpRequest, key: UUID) -> HttpResponse:
    """Where the gateway sends the payer back: asks the gateway once more and shows the result."""
    payment = get_object_or_404(
        OnlinePayment.objects.select_related("account").filter(
            account__in=accounts_of_user(request.user)
        ),
        idempotence_key=key,
    )
    checked = True
    if payment.status == OnlinePayment.Status.PENDING and payment.gateway_payment_id:
        try:
            payment = (
                online.confirm_online_payment(gateway_payment_id=payment.gateway_payment_id)
                or payment
            )
        except gateways.GatewayError:
            checked = False
    context = {"payment": payment, "account": payment.account, "checked": checked}
    return render(request, "billing/online/status.html", context)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, gateway: str) -> HttpResponse:
    """Notifications from a gateway. Only the payment id is read; the status is fetched
    from the gateway's API. 200: taken (booked, already booked, unknown id, other events);
    400: not a notification; 403: an address outside the allow-list; 503: the gateway could
    not be asked, please repeat (YooKassa repeats for 24 hours)."""
    if not gateways.gateway_is_available(gateway):
        raise Http404
    address = client_ip(request)
    if not gateways.webhook_ip_allowed(address):
        logger.warning("online payment notification for %s from a foreign address", gateway)
        return HttpResponseForbidden()
    if len(request.body) > WEBHOOK_MAX_BYTES:
        return HttpResponseBadRequest()
    try:
        online.handle_notification(gateway=gateway, body=request.body)
    except ValidationError:
        return HttpResponseBadRequest()
    except gateways.GatewayError as error:
        logger.warning("online payment notification for %s not checked: %s", gateway, error.code)
        return HttpResponse(status=503)
    return HttpResponse()


def _demo() -> gateways.DemoGateway:
    try:
        return gateways.DemoGateway()
    except gateways.GatewayError:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def demo_bank(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The demo bank's payment page (DEBUG or DEMO_GATEWAY_ENABLED only). "Оплатить" or
    "Отказаться" finishes the payment at the bank, notifies us as the real bank would
    (the same code path as the webhook) and sends the payer back to the return URL."""
    demo = _demo()
    record = demo.record(payment_id)
    if record is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("pay", "refuse"):
            return HttpResponseBadRequest()
        record = demo.finish(payment_id, paid=action == "pay")
        event = "payment.succeeded" if record["status"] == "succeeded" else "payment.canceled"
        notification = {"type": "notification", "event": event, "object": {"id": payment_id}}
        try:
            online.handle_notification(gateway=demo.name, body=json.dumps(notification).encode())
        except gateways.GatewayError:
            messages.warning(request, "Банк не смог сообщить порталу об оплате; проверим позже.")
        return redirect(_back_url(request, record["return_url"]))
    context = {
        "record": record,
        "amount": Decimal(record["amount"]),
        "back_url": _back_url(request, record["return_url"]),
    }
    return render(request, "billing/online/demo_bank.html", context)


def _back_url(request: HttpRequest, return_url: str) -> str:
    """The payer goes back only to this site (the portal built the URL; checked anyway)."""
    if url_has_allowed_host_and_scheme(
        return_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return return_url
    return reverse("home")
