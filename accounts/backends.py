"""Log in by e-mail or by phone number with one field."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User
from accounts.phones import looks_like_phone, normalise_phone


def normalise_login(raw: str) -> str:
    """The one form of a login: a phone as +7…, an e-mail in lower case. Throttling and
    authentication both count by it, so «BF1@…» and «bf1@…» are one login."""
    login = (raw or "").strip()
    return normalise_phone(login) if looks_like_phone(login) else login.lower()


def axes_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """django-axes' key for a login attempt (settings.AXES_USERNAME_CALLABLE), on the
    cabinet's login and the staff one alike: a user's e-mail in lower case, whichever of
    their e-mail (in any case) or phone (in any format) was typed."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    login = normalise_login(str(raw or ""))
    if login.startswith("+7"):  # one user's phone and e-mail are one login for the lock
        email = User.objects.filter(phone=login).values_list("email", flat=True).first()
        return email.lower() if email else login
    return login


class EmailOrPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        login = normalise_login(username)
        if login.startswith("+7"):
            user = User.objects.filter(phone=login).first()
        else:
            user = User.objects.filter(email__iexact=login).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
