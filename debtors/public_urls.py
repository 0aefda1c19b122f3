"""Public pages of the published lists (app_name "public"), included at the site root."""

from django.urls import path

from debtors import public_views

app_name = "public"

urlpatterns = [
    path("debtors/", public_views.debtors, name="debtors"),
    path("good-payers/", public_views.good_payers, name="good-payers"),
]
