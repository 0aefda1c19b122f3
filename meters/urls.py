from django.urls import path

from meters import views

app_name = "meters"

urlpatterns = [
    path("cabinet/accounts/<str:number>/readings/", views.readings, name="readings"),
]
