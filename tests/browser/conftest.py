"""Playwright driving Debian's Chromium against live_server (never `playwright install`)."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

# Playwright's sync API keeps an event loop in this thread; without this Django raises
# SynchronousOnlyOperation on the first ORM call in a fixture.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def is_csp_error(message) -> bool:
    """Chromium reports every blocked script, style, image or form target in the console:
    "Refused to … because it violates the following Content Security Policy directive …"."""
    return "Content Security Policy" in message.text


@pytest.fixture
def csp_errors(page) -> list[str]:
    """The CSP errors the page has logged so far (the page fixture fails a test with any)."""
    return page.csp_errors


@pytest.fixture
def page(chromium, live_server):
    """A page of a fresh browser context. Every page runs under the portal's real
    Content-Security-Policy, and a test whose pages logged a CSP error fails."""
    context = chromium.new_context(
        base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    page = context.new_page()
    page.set_default_timeout(10000)
    page.csp_errors = []
    page.on("console", lambda m: is_csp_error(m) and page.csp_errors.append(m.text))
    yield page
    errors = list(page.csp_errors)
    context.close()
    if errors and not getattr(page, "csp_errors_expected", False):
        pytest.fail("Content-Security-Policy errors in the console:\n" + "\n".join(errors))


@pytest.fixture
def log_in(page, live_server):
    """Skip the login form: hand the browser a real session cookie."""

    def log_in(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return log_in


@pytest.fixture
def axe_violations(page):
    """Run axe-core in the current page; return violations rated serious or critical."""

    def check() -> list[dict]:
        # Evaluated through the DevTools protocol, not as a <script> tag, which the page's
        # CSP (no inline scripts) would rightly refuse.
        page.evaluate(AXE_JS.read_text())
        result = page.evaluate("async () => await axe.run(document)")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return check
