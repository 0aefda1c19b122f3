from django.urls import path

from meters import views

app_name = "meters"

urlpatterns = [
    path("cabinet/accounts/<account:number>/readings/", views.readings, name="readings"),
]
