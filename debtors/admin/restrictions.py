"""Restrictions of service: done, and restored."""

from django.contrib import admin
from django.db.models import (
    QuerySet,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from debtors import services
from debtors.admin.common import ReadOnlyAdmin
from debtors.admin.forms import RestoredForm, RestrictedForm
from debtors.models import (
    Restriction,
)
from vodokanal.common.staff_pages import change_url, form_page, require, submitted

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
        require(request, "debtors.change_restriction")
        restriction = get_object_or_404(Restriction, pk=restriction_id)
        form = RestrictedForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.record_restricted(
                restriction_id=restriction.pk, restricted_on=data["restricted_on"]
            )

        done = submitted(request, form, act, "Ограничение записано.", change_url(restriction))
        return done or form_page(
            self, request, f"Выполнено: {restriction}", form, submit="Записать"
        )

    def restored_view(self, request: HttpRequest, restriction_id: int) -> HttpResponse:
        require(request, "debtors.change_restriction")
        restriction = get_object_or_404(Restriction, pk=restriction_id)
        form = RestoredForm(request.POST if request.method == "POST" else None)

        def act(data: dict) -> object:
            return services.record_restored(
                restriction_id=restriction.pk, restored_on=data["restored_on"]
            )

        done = submitted(request, form, act, "Возобновление записано.", change_url(restriction))
        return done or form_page(
            self, request, f"Возобновление: {restriction}", form, submit="Записать"
        )
