"""Settings of the web server the bench starts: the portal's settings as in production
(DEBUG off: no query log, cached templates), plain HTTP on 127.0.0.1, and the bench's
URLconf with a trivial view, the floor of the load test."""

import warnings

from vodokanal.settings import *  # noqa: F403

# WhiteNoise looks for collected static files; the bench requests pages only.
warnings.filterwarnings("ignore", message="No directory at")

DEBUG = False
ROOT_URLCONF = "vodokanal.bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Pages only: static files are not requested, and no collectstatic manifest is needed.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
