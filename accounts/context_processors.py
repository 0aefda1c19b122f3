from django.conf import settings
from django.http import HttpRequest


def utility(request: HttpRequest) -> dict:
    """The utility's contacts for the footer and headers of every page."""
    return {"utility": settings.UTILITY}
