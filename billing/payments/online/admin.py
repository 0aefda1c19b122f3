"""Online payments in the admin: read only. A payment is booked by the gateway's own word
(billing.payments.online.services), never by staff editing a row; staff may only ask the gateway again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import OnlinePayment
from billing.payments.online import gateways
from billing.payments.online import services as online


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "account",
        "amount",
        "for_month",
        "gateway",
        "status",
        "gateway_payment_id",
        "payment",
        "finished_at",
    )
    list_filter = ("status", "gateway")
    search_fields = ("=account__number", "=gateway_payment_id")
    list_select_related = ("account", "payment")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["check_at_gateway"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OnlinePayment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OnlinePayment | None = None) -> bool:
        return False

    @admin.action(description="Проверить статус в платёжном сервисе", permissions=["view"])
    def check_at_gateway(self, request: HttpRequest, queryset: QuerySet[OnlinePayment]) -> None:
        pending = queryset.filter(
            status=OnlinePayment.Status.PENDING, gateway_payment_id__isnull=False
        )
        for row in pending.order_by("created_at"):
            try:
                checked = online.confirm_online_payment(
                    gateway_payment_id=row.gateway_payment_id or ""
                )
            except gateways.GatewayError as error:
                messages.error(request, f"{row.gateway_payment_id}: {error.message}")
                continue
            if checked is not None:
                messages.info(
                    request, f"{row.gateway_payment_id}: {checked.get_status_display().lower()}"
                )
