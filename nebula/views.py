"""Pages of the project itself: home and the error handlers."""

import logging
import sys

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

from datalayer.errors import is_unavailable

from .http import outage_summary, unavailable_response

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Say what Nebula is."""
    return render(request, "home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Explain a failed CSRF check without showing the technical reason."""
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer a request over its rate limit: 429, and when to try again.

    ``Retry-After`` is the window of the limit that was hit
    (``nebula.ratelimit.RateLimited.retry_after``); a minute for any other refusal.
    """
    retry_after = getattr(exception, "retry_after", 60)
    response = render(request, "429.html", {"retry_after_seconds": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unhandled error: a 503 if DynamoDB is unavailable, else the 500 page.

    Middleware errors never reach ``process_exception``, so a DynamoDB outage met
    while loading a session is recognised here.
    """
    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        logger.warning("DynamoDB unavailable: %s", outage_summary(exc))
        return unavailable_response(request)
    return django_server_error(request)
