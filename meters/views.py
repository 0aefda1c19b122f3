"""Cabinet pages of meters: the readings form, the history and the consumption chart."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.selectors import accounts_of_user
from meters.charts import consumption_chart
from meters.forms import ReadingsForm, value_field_name
from meters.models import MeterReading
from meters.selectors import (
    meter_cards,
    monthly_consumption,
    reading_history,
    reading_window,
    reading_window_is_open,
)
from meters.services import submit_account_readings


@login_required
@require_http_methods(["GET", "POST"])
def readings(request: HttpRequest, number: str) -> HttpResponse:
    account = get_object_or_404(accounts_of_user(request.user), number=number)
    cards = meter_cards(account)
    asked = {
        int(key.removeprefix("confirm_")) for key in request.POST if key.startswith("confirm_")
    }
    form = ReadingsForm(
        request.POST if request.method == "POST" else None, cards=cards, confirm=asked
    )
    if form.is_valid():
        outcomes = submit_account_readings(
            entries=form.entries(), channel=MeterReading.Channel.CABINET, submitted_by=request.user
        )
        refused = {
            meter_id: o for meter_id, o in outcomes.items() if isinstance(o, ValidationError)
        }
        for outcome in outcomes.values():
            if not isinstance(outcome, ValidationError):
                messages.success(request, outcome.message)
        if not refused:
            return redirect("meters:readings", number=account.number)
        to_confirm = asked | {
            i for i, error in refused.items() if error.code == "needs_confirmation"
        }
        form = ReadingsForm(request.POST, cards=cards, confirm=to_confirm)
        form.is_valid()
        for meter_id, error in refused.items():
            form.add_error(value_field_name(meter_id), error)
    history = Paginator(reading_history(account), 20).get_page(request.GET.get("page"))
    window_start, window_end = reading_window()
    context = {
        "account": account,
        "cards": cards,
        "form": form,
        "history": history,
        "chart": consumption_chart(monthly_consumption(account)),
        "window_open": reading_window_is_open(),
        "window_start": window_start,
        "window_end": window_end,
    }
    return render(request, "meters/readings.html", context, status=400 if form.errors else 200)
