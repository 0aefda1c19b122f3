from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import converters  # noqa: F401 - <account:…>, <year:…>, <month:…> for every app
from accounts.forms import LoginForm
from accounts.views import PasswordResetView, home

admin.site.site_header = "Водоканал: рабочее место сотрудника"
admin.site.site_title = "Водоканал"
admin.site.index_title = "Разделы"

urlpatterns = [
    path("", home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include("accounts.urls")),
    path("", include("meters.urls")),
    path("", include("meters.voice.urls")),
    path("", include("billing.urls")),
    path("", include("billing.payments.online.urls")),
    path("", include("debtors.public_urls")),
    path("", include("debtors.urls")),
    path("staff/", admin.site.urls),
]

handler404 = "django.views.defaults.page_not_found"
