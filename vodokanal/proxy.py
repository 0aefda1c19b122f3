"""The portal behind its reverse proxy (docker-compose.yml: proxy, vodokanal/deploy/nginx.conf).

With BEHIND_PROXY on, gunicorn is reachable only through the proxy, which overwrites
X-Forwarded-Proto and appends the address it saw to X-Forwarded-For; only then are those
headers believed (SECURE_PROXY_SSL_HEADER, `client_ip`). Without a proxy they are anybody's
words and are ignored.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request: the last X-Forwarded-For entry (the one our
    proxy appended; earlier entries come from the client) behind the proxy, else REMOTE_ADDR.
    Login throttling (AXES_CLIENT_IP_CALLABLE) and the webhooks' allow-lists use it."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")
