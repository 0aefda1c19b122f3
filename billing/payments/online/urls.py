"""Online payment URLs (app_name "online"), included at the site root."""

from django.urls import path

from billing.payments.online import views as online_views

app_name = "online"

urlpatterns = [
    path("cabinet/accounts/<account:number>/pay/", online_views.pay, name="pay"),
    path("cabinet/payments/<uuid:key>/", online_views.status, name="status"),
    path("payments/webhook/<slug:gateway>/", online_views.webhook, name="webhook"),
    path("demo-bank/<str:payment_id>/", online_views.demo_bank, name="demo-bank"),
]
