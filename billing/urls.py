from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("pay/", views.channels, name="channels"),
    path("cabinet/accounts/<account:number>/finance/", views.finance, name="finance"),
    path("cabinet/accounts/<account:number>/penalty/", views.penalty, name="penalty"),
    path("cabinet/accounts/<account:number>/receipts/", views.receipts, name="receipts"),
    path(
        "cabinet/accounts/<account:number>/receipts/<year:year>-<month:month>.pdf",
        views.receipt_pdf,
        name="receipt-pdf",
    ),
    path(
        "cabinet/accounts/<account:number>/reconciliation/",
        views.reconciliation,
        name="reconciliation",
    ),
]
