from django.urls import path

from debtors import views

app_name = "debtors"

urlpatterns = [
    path("cabinet/accounts/<account:number>/documents/", views.documents, name="documents"),
    path(
        "cabinet/accounts/<account:number>/documents/<int:document_id>.pdf",
        views.document_pdf,
        name="document-pdf",
    ),
]
