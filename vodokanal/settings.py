"""Settings of the Vodokanal portal: one module, every difference between environments is an
environment variable (django-environ). Secrets have no defaults in production; the development
launcher (vodokanal/devservices.py) sets DATABASE_URL / REDIS_URL when they are unset."""

import sys
from datetime import date
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# In DEBUG a fixed development key is acceptable; otherwise SECRET_KEY is mandatory.
SECRET_KEY = env(
    "SECRET_KEY", default="dev-insecure-key-only-for-debug" if DEBUG else environ.Env.NOTSET
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# The portal's calendar day for a whole development or test run (vodokanal/common/clock.py), e.g.
# `VODOKANAL_TODAY=2027-01-14 make test`; every process of the run reads it alike.
# Testing: pytest's process, and the processes a test starts (tests/conftest.py marks them).
TESTING = "pytest" in sys.modules or env.bool("VODOKANAL_TESTING", default=False)
try:
    VODOKANAL_TODAY = (
        date.fromisoformat(env.str("VODOKANAL_TODAY")) if env.str("VODOKANAL_TODAY", "") else None
    )
except ValueError as error:
    raise ImproperlyConfigured("VODOKANAL_TODAY: ожидается дата ГГГГ-ММ-ДД.") from error
if VODOKANAL_TODAY is not None and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "VODOKANAL_TODAY задаёт дату только для разработки и тестов: уберите его "
        "из окружения рабочего сервера (или включите DEBUG на машине разработчика)."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "simple_history",
    "accounts",
    "meters",
    "billing",
    "debtors",
    "vodokanal",  # the project's own commands (manage.py bench)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vodokanal.middleware.SecurityHeadersMiddleware",  # CSP; private pages never cached
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vodokanal.urls"
WSGI_APPLICATION = "vodokanal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.utility",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # login throttling first
    "accounts.backends.EmailOrPhoneBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:cabinet"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "ru"
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# What the portal writes at run time on a development machine (vodokanal/devservices.py).
VAR_DIR = Path(env.str("VODOKANAL_VAR_DIR", default="") or BASE_DIR / "var")
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: console in development, SMTP by environment in production (EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.ru:587).
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="consolemail://" if DEBUG else "smtp://localhost:25",
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Водоканал <noreply@vodokanal.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_CONFIRMATION_MAX_AGE_DAYS = 3

# Behind the reverse proxy of docker-compose.yml (gunicorn not reachable otherwise): only then
# are its X-Forwarded-Proto and X-Forwarded-For believed (vodokanal/proxy.py).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login throttling (django-axes): lock a user+IP pair after AXES_FAILURE_LIMIT failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# The login as one form (lower-case e-mail, +7 phone), so letter case cannot dodge the lock.
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_CLIENT_IP_CALLABLE = "vodokanal.proxy.client_ip"

# Security: secure cookies and HSTS whenever DEBUG is off.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy of every page (vodokanal/middleware.py): scripts, styles and fonts
# from our own origin only, no inline code. Images may be data: URIs (Bootstrap's form icons).
# Forms post to ourselves, and the pay form's redirect goes to the payment gateway's page
# (CSP_PAYMENT_ORIGINS). One inline style is allowed by its hash: django-simple-history's
# object history page writes `style="border-top: 0"`.
CSP_PAYMENT_ORIGINS = env.list("CSP_PAYMENT_ORIGINS", default=["https://yoomoney.ru"])
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": [
        "'self'",
        "'unsafe-hashes'",
        "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
    ],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'", *CSP_PAYMENT_ORIGINS],
    "frame-ancestors": ["'none'"],
}
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Celery on Redis. JSON only; late acks with prefetch 1 (document renders are long).
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task modules besides the apps' tasks.py (autodiscovered).
CELERY_IMPORTS = [
    "billing.payments.tasks",
    "billing.payments.online.tasks",
    "debtors.batch_tasks",
    "debtors.lists_tasks",
]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The monthly cycle docs/architecture.md §6: the run the day after the reading window closes, receipts the
# day after; days are settings. Crontab times are Moscow time (CELERY_TIMEZONE).
BILLING_RUN_DAY = env.int("BILLING_RUN_DAY", default=26)
LISTS_PUBLISH_DAY = env.int("LISTS_PUBLISH_DAY", default=15)  # the public lists' snapshot
DEBT_NOTICES_DAY = env.int("DEBT_NOTICES_DAY", default=15)  # monthly notices to debtors
RECEIPTS_DAY = env.int("RECEIPTS_DAY", default=27)
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    "fetch-key-rates": {
        "task": "billing.tasks.fetch_key_rates",
        "schedule": crontab(hour=9, minute=0),
    },
    "monthly-billing": {
        "task": "billing.tasks.start_monthly_billing",
        "schedule": crontab(hour=1, minute=0, day_of_month=BILLING_RUN_DAY),
    },
    "monthly-receipts": {
        "task": "billing.tasks.issue_monthly_receipts",
        "schedule": crontab(hour=4, minute=0, day_of_month=RECEIPTS_DAY),
    },
    "monthly-accrual-registries": {
        "task": "billing.payments.tasks.issue_monthly_accrual_registries",
        "schedule": crontab(hour=4, minute=30, day_of_month=RECEIPTS_DAY),
    },
    "check-online-payments": {
        "task": "billing.payments.online.tasks.check_pending_online_payments",
        "schedule": crontab(minute="*/10"),
    },
    "debt-cases": {
        "task": "debtors.tasks.update_debt_cases",
        "schedule": crontab(hour=5, minute=0),
    },
    "monthly-debt-notices": {
        "task": "debtors.batch_tasks.issue_monthly_notices",
        "schedule": crontab(hour=6, minute=0, day_of_month=DEBT_NOTICES_DAY),
    },
    "publish-lists": {
        "task": "debtors.lists_tasks.publish_monthly_lists",
        "schedule": crontab(hour=6, minute=0, day_of_month=LISTS_PUBLISH_DAY),
    },
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "vodokanal",
    }
}

# The utility itself: printed on receipts and documents, shown in the footer.
UTILITY = {
    "name": env("UTILITY_NAME", default="ООО «Краснодар Водоканал»"),
    "short_name": env("UTILITY_SHORT_NAME", default="Водоканал"),
    "address": env("UTILITY_ADDRESS", default="350000, г. Краснодар, ул. Каляева, д. 198"),
    # Requisites are checked at every start (billing/checks.py): a bank app refuses wrong ones.
    "inn": env("UTILITY_INN", default="2310123454"),
    "kpp": env("UTILITY_KPP", default="231001001"),
    "phone": env("UTILITY_PHONE", default="+7 (861) 200-00-00"),
    # The automatic phone line for readings (meters/voice), printed on receipts and /pay/.
    "readings_phone": env("UTILITY_READINGS_PHONE", default="+7 (861) 200-00-01"),
    "email": env("UTILITY_EMAIL", default="info@vodokanal.local"),
    "site": env("UTILITY_SITE", default=SITE_URL),
    "hours": env("UTILITY_HOURS", default="пн–пт 8:00–17:00, сб 9:00–13:00"),
    "bank_name": env("UTILITY_BANK_NAME", default="ПАО Сбербанк"),
    "bank_bic": env("UTILITY_BANK_BIC", default="040349602"),
    "bank_account": env("UTILITY_BANK_ACCOUNT", default="40702810630000012345"),
    "bank_corr_account": env("UTILITY_BANK_CORR_ACCOUNT", default="30101810100000000602"),
}

# Demo data added by each app after the accounts (manage.py seed_demo), in this order.
DEMO_SEEDERS = [
    "meters.demo.seed_demo_meters",
    "billing.demo.seed_demo_billing",
    "debtors.demo.seed_demo_debtors",
]

# Sections of the cabinet's account page added by apps to the right of accounts: each path
# is a function(account) -> rendered HTML.
ACCOUNT_PANELS = ["billing.views.balance_panel"]

# The account number: 9 digits of a serial and a Luhn check digit (docs/formats.md §6).
ACCOUNT_NUMBER_PREFIX = "23"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Uploaded files (security review). Django keeps a request body up to the first size in
# memory and a file up to the second (larger files go to a temporary file on disk). Each
# import refuses a larger file than its own limit however it is called (upload or command),
# reads it in chunks, and lists at most IMPORT_MAX_ERRORS problems (and how many more).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# A bank's payment registry: 100 000 lines of ~200 bytes are 20 MB.
REGISTRY_MAX_BYTES = env.int("REGISTRY_MAX_BYTES", default=32 * 1024 * 1024)
# Controllers' readings (CSV or XLSX), and the rows and columns read of one.
READINGS_IMPORT_MAX_BYTES = env.int("READINGS_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
READINGS_IMPORT_MAX_ROWS = env.int("READINGS_IMPORT_MAX_ROWS", default=100_000)
READINGS_IMPORT_MAX_COLUMNS = env.int("READINGS_IMPORT_MAX_COLUMNS", default=50)
IMPORT_MAX_ERRORS = env.int("IMPORT_MAX_ERRORS", default=100)

# Meter readings (docs/architecture.md §5). Each rule a utility tunes is here.
READING_WINDOW_DAYS = (15, 25)  # inclusive days of the month when subscribers pass readings
# A month is billed from the day after its window (billing.selectors.first_billing_day), its
# receipts after that; every month has the days (28 at most).
if not READING_WINDOW_DAYS[1] < BILLING_RUN_DAY <= RECEIPTS_DAY <= 28:
    raise ImproperlyConfigured(
        "Дни цикла: BILLING_RUN_DAY должен быть после окна показаний (после "
        f"{READING_WINDOW_DAYS[1]}-го), RECEIPTS_DAY — не раньше него, оба не позже 28-го."
    )
# Channels where the subscriber passes readings themselves: these keep to the window.
READING_WINDOW_CHANNELS = ("cabinet", "phone", "bank_registry")
# Channels where the subscriber can confirm an unusually large consumption on the spot; on
# other channels such a reading is accepted and flagged for staff.
READING_CONFIRM_CHANNELS = ("cabinet", "phone")
READING_DAILY_LIMIT_PER_RESIDENT_M3 = env.str(
    "READING_DAILY_LIMIT_PER_RESIDENT_M3", default="1.000"
)
READING_DAILY_LIMIT_NO_RESIDENTS_M3 = env.str(
    "READING_DAILY_LIMIT_NO_RESIDENTS_M3", default="30.000"
)
METER_VERIFICATION_WARNING_DAYS = 30  # warn this many days before the verification date

# Billing (docs/architecture.md §7): consumption when readings are missing (ПП 354 п. 59, 60; docs/penalties.md
# §7). These counts and coefficients have changed over the years, so they are settings.
BILLING_AVERAGE_HISTORY_MONTHS = 6  # the average is taken over up to this many months of readings
BILLING_AVERAGE_MIN_MONTHS = 3  # ... and at least this many, else the norm
BILLING_AVERAGE_MAX_MONTHS = 6  # months in a row billed by the average before the norm
BILLING_FAULTY_AVERAGE_MAX_MONTHS = 3  # the same for a broken or unverified meter
BILLING_FAULTY_NORM_COEFFICIENT = env.str("BILLING_FAULTY_NORM_COEFFICIENT", default="1.5")
BILLING_NO_METER_COEFFICIENT = env.str("BILLING_NO_METER_COEFFICIENT", default="1.0")
# Penalties: which key rate a day of delay uses (docs/penalties.md §3).
PENALTY_RATE_MODE = env.str("PENALTY_RATE_MODE", default="payment_day")
# The largest correction staff may book at once (billing.services.correction_bound); a
# decrease is also never larger than what it corrects.
BILLING_CORRECTION_LIMIT = env.str("BILLING_CORRECTION_LIMIT", default="50000.00")
# The Bank of Russia's DailyInfo web service: new key-rate decisions (fetch_key_rates).
CBR_DAILY_INFO_URL = env.str(
    "CBR_DAILY_INFO_URL", default="https://www.cbr.ru/DailyInfoWebServ/DailyInfo.asmx"
)
# Receipts rendered per Celery task, each batch also merged into one print file.
RECEIPT_BATCH_SIZE = env.int("RECEIPT_BATCH_SIZE", default=200)

# Debt collection (docs/architecture.md §9; docs/penalties.md §8, §9).
DEBT_CASE_MIN_DEBT = env.str("DEBT_CASE_MIN_DEBT", default="100.00")  # smaller debts open no case
CLAIM_PAYMENT_DAYS = 10  # the claim's deadline to pay
COURT_AFTER_CLAIM_DAYS = 30  # АПК РФ ст. 4 ч. 5
RESTRICTION_WARNING_DAYS = 20  # ПП 354 п. 119: from delivery of the warning
LEGAL_RESTRICTION_NOTICE_DAYS = env.int("LEGAL_RESTRICTION_NOTICE_DAYS", default=30)
# The published list of debtor organisations: overdue debt over the threshold for over N days.
DEBTOR_LIST_THRESHOLD = env.str("DEBTOR_LIST_THRESHOLD", default="50000.00")
DEBTOR_LIST_MIN_DAYS = env.int("DEBTOR_LIST_MIN_DAYS", default=60)

# Online payment (docs/architecture.md §8): YooKassa in production; the demo bank only in development or
# when explicitly allowed.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="demo" if DEBUG else "yookassa")
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="https://api.yookassa.ru/v3")
YOOKASSA_TIMEOUT_SECONDS = env.float("YOOKASSA_TIMEOUT_SECONDS", default=10.0)
DEMO_GATEWAY_ENABLED = env.bool("DEMO_GATEWAY_ENABLED", default=DEBUG)
# YooKassa's notification addresses (check against their current documentation).
ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS = env.list("ONLINE_PAYMENT_WEBHOOK_ALLOWED_IPS", default=[])
ONLINE_PAYMENT_MAX_AMOUNT = env.str("ONLINE_PAYMENT_MAX_AMOUNT", default="600000.00")

# The automatic phone line for readings (docs/phone-line.md §8).
# Key of the webhook's HMAC-SHA256 signatures; empty: the webhook refuses every request.
VOICE_WEBHOOK_SECRET = env.str("VOICE_WEBHOOK_SECRET", default="")
# Keep the callers' recorded answers (personal data) on the call log; off unless set.
VOICE_KEEP_RECORDINGS = env.bool("VOICE_KEEP_RECORDINGS", default=False)
# A Vosk model directory to recognise recorded answers locally; empty: the platform's text.
VOICE_VOSK_MODEL_PATH = env.str("VOICE_VOSK_MODEL_PATH", default="")
# Where callers are transferred: the Dial() argument on Asterisk ("PJSIP/operator"), or what a
# webhook platform gets as "transfer_to". Empty on Asterisk: the dialplan after AGI() decides.
VOICE_OPERATOR_EXTENSION = env.str("VOICE_OPERATOR_EXTENSION", default="")
# FastAGI: the PBX's speech synthesis application, and its speech recognition engine and
# grammar (no engine: answers by keypad only).
VOICE_AGI_TTS_APP = env.str("VOICE_AGI_TTS_APP", default="Festival")
VOICE_AGI_SPEECH_ENGINE = env.str("VOICE_AGI_SPEECH_ENGINE", default="")
VOICE_AGI_SPEECH_GRAMMAR = env.str("VOICE_AGI_SPEECH_GRAMMAR", default="")
# FastAGI: the PBX addresses (or networks, "10.0.5.0/28") allowed to connect, comma-separated;
# every other connection is refused at once. Bind the server to the telephony network only.
VOICE_AGI_ALLOWED_IPS = env.list("VOICE_AGI_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# FastAGI: at most this many calls at once (more connections are closed), and the seconds of
# silence from the PBX after which a connection is closed.
VOICE_AGI_MAX_SESSIONS = env.int("VOICE_AGI_MAX_SESSIONS", default=50)
VOICE_AGI_IDLE_TIMEOUT = env.int("VOICE_AGI_IDLE_TIMEOUT", default=60)
