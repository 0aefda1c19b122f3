"""List filters of debt cases."""

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.db.models import (
    Exists,
    OuterRef,
    QuerySet,
)
from django.http import HttpRequest

from debtors import bulk
from debtors.models import (
    InstallmentAgreement,
)
from vodokanal.common import clock

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
