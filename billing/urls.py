from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("pay/", views.channels, name="channels"),
    path("cabinet/accounts/<str:number>/finance/", views.finance, name="finance"),
    path("cabinet/accounts/<str:number>/penalty/", views.penalty, name="penalty"),
    path("cabinet/accounts/<str:number>/receipts/", views.receipts, name="receipts"),
    path(
        "cabinet/accounts/<str:number>/receipts/<int:year>-<int:month>.pdf",
        views.receipt_pdf,
        name="receipt-pdf",
    ),
    path(
        "cabinet/accounts/<str:number>/reconciliation/",
        views.reconciliation,
        name="reconciliation",
    ),
]
