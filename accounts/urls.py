from django.urls import path

from accounts import converters, views  # noqa: F401 - converters registers <account:…>

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("cabinet/", views.cabinet, name="cabinet"),
    path("cabinet/accounts/add/", views.account_add, name="account-add"),
    path("cabinet/accounts/switch/", views.account_switch, name="account-switch"),
    path("cabinet/accounts/<account:number>/", views.account_detail, name="account-detail"),
    path("cabinet/accounts/<account:number>/remove/", views.account_remove, name="account-remove"),
]
