"""The site's URLs and the trivial view the cabinet pages are compared with under load."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from vodokanal.urls import handler404
from vodokanal.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404", "urlpatterns"]


def trivial(request: HttpRequest) -> HttpResponse:
    """The floor: the whole middleware stack, no query of its own, a short body."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench-trivial"), *site_urlpatterns]
