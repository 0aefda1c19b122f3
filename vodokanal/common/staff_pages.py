"""The staff's form pages inside the admin, one shape for every app: the permission checked
first (`require`, the one way a page refuses: PermissionDenied, a 403 page in Russian), the
object, the form, the service called with the form's data (`submitted`), the service's
refusal in Russian on the form or a message and a redirect, else the page (`form_page`,
templates/admin/form_page.html).

    require(request, "debtors.add_restriction")
    case = get_object_or_404(DebtCase, pk=case_id)
    form = RestrictForm(request.POST if request.method == "POST" else None)
    act = lambda data: services.restrict(case_id=case.pk, on=data["on"], by=request.user)
    return submitted(request, form, act, "Наряд выдан.", change_url(case)) or form_page(
        model_admin, request, f"Ограничение подачи: {case}", form, submit="Выдать наряд"
    )
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

FORM_TEMPLATE = "admin/form_page.html"


def require(request: HttpRequest, permission: str) -> None:
    """Refuse the page unless the user has the permission ("app.codename")."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


def submitted(
    request: HttpRequest,
    form: forms.Form,
    act: Callable[[dict[str, Any]], object],
    done: str | Callable[[Any], str],
    url: str | Callable[[Any], str],
) -> HttpResponse | None:
    """For a valid form: call the service (`act` with the cleaned data) and, when it takes
    it, say `done` and redirect to `url` (either may be a function of what the service
    returned). A service's ValidationError goes on the form in Russian; None: show the page."""
    if not form.is_valid():
        return None
    try:
        result = act(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None
    return done_page(
        request, done(result) if callable(done) else done, url(result) if callable(url) else url
    )


def done_page(request: HttpRequest, text: str, url: str) -> HttpResponse:
    """Say what was done and go back to `url`."""
    messages.success(request, text)
    return HttpResponseRedirect(url)


def form_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    title: str,
    form: forms.Form,
    *,
    submit: str = "Сохранить",
    about: list[str] | None = None,
    hidden: list[tuple[str, object]] | None = None,
    template: str = FORM_TEMPLATE,
    **extra: object,
) -> HttpResponse:
    """A staff form page inside the admin's layout: what it is about, the form, the button."""
    return staff_page(
        model_admin,
        request,
        template,
        title,
        form=form,
        submit=submit,
        about=about or [],
        hidden=hidden or [],
        **extra,
    )


def staff_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, template: str, title: str, **extra: object
) -> HttpResponse:
    """Any staff page inside the admin's layout (a form, a preview, a report)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        **extra,
    }
    return render(request, template, context)


def change_url(obj: models.Model) -> str:
    """The admin page of an object."""
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
