"""Settings come from the environment; production settings pass `check --deploy`."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent


def run_django(code: str, drop: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a "deployment".
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "VODOKANAL_"))
        and k not in drop
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "vodokanal.settings"},
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "lk.vodokanal.example.ru",
}


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "ru"
    assert settings.TIME_ZONE == "Europe/Moscow"
    assert settings.USE_TZ is True
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_production_settings_pass_check_deploy():
    result = run_django(
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr


def test_production_settings_are_secure_and_read_from_the_environment():
    result = run_django(
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        "s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.DATABASES['default']['NAME'],"
        "s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.EMAIL_HOST]))",
        **PRODUCTION,
        DATABASE_URL="postgres://u:p@db.example:5432/portal",
        REDIS_URL="redis://cache.example:6379/1",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.ru:587",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [
        False,
        True,
        True,
        31536000,
        True,
        ["lk.vodokanal.example.ru"],
        "portal",
        "redis://cache.example:6379/1",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.ru",
    ]


def test_production_refuses_to_start_without_a_secret_key():
    without_secret = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run_django("print('started')", drop=("SECRET_KEY",), **without_secret)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_development_uses_the_console_mail_backend():
    result = run_django(
        "from django.conf import settings as s; print(s.EMAIL_BACKEND)", DEBUG="true"
    )
    assert result.stdout.strip().endswith("console.EmailBackend"), result.stderr


def test_production_refuses_to_start_with_a_fixed_day():
    result = run_django("print('started')", VODOKANAL_TODAY="2027-01-14", **PRODUCTION)
    assert result.returncode != 0
    assert "VODOKANAL_TODAY задаёт дату только для разработки и тестов" in result.stderr
    assert "started" not in result.stdout


def test_a_fixed_day_is_every_processs_today_in_development():
    result = run_django(
        "from vodokanal.common import clock; from vodokanal.celery import app; "
        "print(clock.today(), clock.now().date(), app.now().astimezone(clock.now().tzinfo).date())",
        DEBUG="true",
        VODOKANAL_TODAY="2028-02-29",
    )
    assert result.stdout.split() == ["2028-02-29"] * 3, result.stderr


def test_a_fixed_day_that_is_no_date_is_refused_in_russian():
    result = run_django("print('started')", DEBUG="true", VODOKANAL_TODAY="2027-02-30")
    assert result.returncode != 0
    assert "VODOKANAL_TODAY: ожидается дата ГГГГ-ММ-ДД" in result.stderr
