"""Response headers every page of the portal carries: the Content-Security-Policy and, for a
signed-in user, `Cache-Control: private, no-store`.

The policy is one setting (CONTENT_SECURITY_POLICY, a directive -> sources mapping); the pages
keep to it: no inline scripts or styles, every script and stylesheet from our own origin.
A page that is anybody's own (the cabinet, its documents, the staff's pages) must never be
stored by a browser's or a proxy's cache, so whenever the request has a signed-in user the
response says so; public pages (the lists, the login form) stay cacheable as their views say.
"""

from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP_HEADER = "Content-Security-Policy"


def policy_header(policy: Mapping[str, list[str] | tuple[str, ...]]) -> str:
    """`{"default-src": ["'self'"], "object-src": ["'none'"]}` ->
    "default-src 'self'; object-src 'none'" (a directive with no sources stands alone)."""
    return "; ".join(
        " ".join([directive, *sources]) if sources else directive
        for directive, sources in policy.items()
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and CSP_HEADER not in response:
            response[CSP_HEADER] = self.csp
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            keep_private(response)
        return response


def keep_private(response: HttpResponse) -> None:
    """`Cache-Control: private, no-store`, whatever caching the view allowed."""
    response["Cache-Control"] = "private, no-store"
    if response.has_header("Expires"):
        del response["Expires"]
