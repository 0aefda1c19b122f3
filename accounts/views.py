"""The personal cabinet: registration, confirmation, accounts. Thin views over services."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import AddAccountForm, RegistrationForm
from accounts.selectors import accounts_of_user
from accounts.validators import is_valid_account_number

SELECTED_ACCOUNT_SESSION_KEY = "selected_account"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, with the link in the letter on the host and scheme of
    SITE_URL: never the Host header of the request, which anyone can forge."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:cabinet")
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.register_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
                phone=form.cleaned_data["phone"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:  # the same answer whether the e-mail was free or taken (services.register_user)
            email = form.cleaned_data["email"].strip().lower()
            return render(request, "accounts/register_done.html", {"email": email})
    return render(request, "accounts/register.html", {"form": form})


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.confirm_email(token=token)
    except ValidationError as error:
        return render(
            request, "accounts/confirm_failed.html", {"error": error.messages[0]}, status=400
        )
    messages.success(request, "E-mail подтверждён. Теперь войдите в личный кабинет.")
    return redirect("login")


@login_required
def cabinet(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_of_user(request.user))
    selected = request.session.get(SELECTED_ACCOUNT_SESSION_KEY)
    if len(accounts) == 1 or (selected and any(a.number == selected for a in accounts)):
        return redirect("accounts:account-detail", number=selected or accounts[0].number)
    return render(request, "accounts/cabinet.html", {"accounts": accounts})


@login_required
@require_http_methods(["GET", "POST"])
def account_add(request: HttpRequest) -> HttpResponse:
    form = AddAccountForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            link = services.link_account(
                user=request.user,
                number=form.cleaned_data["number"],
                code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[SELECTED_ACCOUNT_SESSION_KEY] = link.account.number
            messages.success(request, f"Лицевой счёт {link.account.number} добавлен.")
            return redirect("accounts:account-detail", number=link.account.number)
    return render(request, "accounts/account_add.html", {"form": form})


@login_required
def account_detail(request: HttpRequest, number: str) -> HttpResponse:
    account = get_object_or_404(accounts_of_user(request.user), number=number)
    request.session[SELECTED_ACCOUNT_SESSION_KEY] = account.number
    context = {
        "account": account,
        "user_accounts": accounts_of_user(request.user),
        # Sections that apps to the right add to the account page (settings.ACCOUNT_PANELS).
        "panels": [import_string(path)(account) for path in settings.ACCOUNT_PANELS],
    }
    return render(request, "accounts/account_detail.html", context)


@login_required
@require_POST
def account_switch(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("number", "")
    if not is_valid_account_number(number):  # junk (a NUL byte…) is a 404, not a query
        raise Http404
    account = get_object_or_404(accounts_of_user(request.user), number=number)
    request.session[SELECTED_ACCOUNT_SESSION_KEY] = account.number
    return redirect("accounts:account-detail", number=account.number)


@login_required
@require_POST
def account_remove(request: HttpRequest, number: str) -> HttpResponse:
    account = get_object_or_404(accounts_of_user(request.user), number=number)
    services.unlink_account(user=request.user, account=account)
    request.session.pop(SELECTED_ACCOUNT_SESSION_KEY, None)
    messages.success(request, f"Лицевой счёт {account.number} убран из личного кабинета.")
    return redirect("accounts:cabinet")
