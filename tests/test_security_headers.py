"""Headers of the security review (docs/architecture.md §10): every page carries a strict
Content-Security-Policy, and nothing a signed-in user sees is kept by a cache."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from vodokanal.middleware import policy_header

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("path", ["/", "/login/", "/debtors/", "/staff/login/"])
def test_every_page_has_a_strict_content_security_policy(client, path):
    policy = directives(client.get(path))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"][0] == "'self'"


def test_the_policy_is_written_from_the_setting():
    assert policy_header({"default-src": ["'self'"], "upgrade-insecure-requests": []}) == (
        "default-src 'self'; upgrade-insecure-requests"
    )


def test_cabinet_pages_are_never_cached(client, subscriber_user, account):
    client.force_login(subscriber_user)
    for url in (
        reverse("meters:readings", args=[account.number]),
        reverse("accounts:account-detail", args=[account.number]),
        reverse("billing:finance", args=[account.number]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_staff_pages_are_never_cached(admin_client):
    response = admin_client.get("/staff/")
    assert response["Cache-Control"] == "private, no-store"


def test_public_pages_stay_cacheable(client):
    response = client.get(reverse("public:debtors"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# What the policy forbids, searched in the portal's own page templates (the PDFs' templates are
# laid out by WeasyPrint, not shown by a browser, and keep their <style>).
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I
)


def test_page_templates_have_no_inline_script_or_style():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        if "pdf" not in path.relative_to(TEMPLATES).parts
        for match in INLINE.finditer(path.read_text())
    ]
    assert offenders == []
