"""The forwarded headers are believed only behind the compose file's reverse proxy (security
review, finding 10): HTTPS from X-Forwarded-Proto, the client's address from X-Forwarded-For."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory
from tests.test_settings import PRODUCTION, run_django
from vodokanal.proxy import client_ip


def proxy_header(**env: str):
    result = run_django(
        "from django.conf import settings as s; import json;"
        "print(json.dumps(getattr(s, 'SECURE_PROXY_SSL_HEADER', None)))",
        drop=("BEHIND_PROXY",),
        **PRODUCTION,
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_ssl_header_is_trusted_only_behind_the_proxy():
    assert proxy_header() is None
    assert proxy_header(BEHIND_PROXY="true") == ["HTTP_X_FORWARDED_PROTO", "https"]


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_the_proxy_a_forwarded_address_is_ignored(settings):
    settings.BEHIND_PROXY = False
    assert client_ip(request_from("203.0.113.7", "10.9.9.9")) == "203.0.113.7"


def test_behind_the_proxy_the_address_it_appended_counts(settings):
    settings.BEHIND_PROXY = True
    # The client wrote "1.2.3.4"; the proxy appended the address it saw.
    assert client_ip(request_from("172.18.0.5", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("172.18.0.5", "203.0.113.8")) == "203.0.113.8"


@pytest.mark.django_db
def test_a_forged_forwarded_address_does_not_reset_the_login_throttle(client, settings):
    settings.BEHIND_PROXY = False
    user = UserFactory()
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": user.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    response = client.post(
        reverse("login"),
        {"username": user.email, "password": "wrong"},
        HTTP_X_FORWARDED_FOR="10.0.1.1",
    )
    assert response.status_code == 429
