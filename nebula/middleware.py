"""Middleware every request passes: access log, health checks, DynamoDB outages."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from datalayer.calls import counting_calls, unavailable_cause
from datalayer.errors import is_unavailable

from . import health
from .http import outage_summary, unavailable_response
from .logging import loggable_path, request_id_var

access_log = logging.getLogger("nebula.access")
logger = logging.getLogger(__name__)

# A caller-supplied id is kept only if it is short and plain (it is logged and echoed).
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9=;:._-]{1,128}")


def _request_id(request: HttpRequest) -> str:
    for header in ("X-Request-ID", "X-Amzn-Trace-Id"):
        value = request.headers.get(header, "")
        if _REQUEST_ID_RE.fullmatch(value):
            return value
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> str | None:
    """Return the user's id only if the request already loaded the user.

    Loading it here would cost a DynamoDB read the page itself did not need.
    """
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return str(wrapped.pk)


class RequestLogMiddleware:
    """Give each request an id and write one access log line when it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        token = request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            with counting_calls() as calls:
                response = self.get_response(request)
            response["X-Request-ID"] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # The route, not the path (tokens live in paths), and no query string.
            path = loggable_path(request)
            access_log.info(
                "%s %s %s %sms dynamodb=%s",
                request.method,
                path,
                response.status_code,
                duration_ms,
                calls.total,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "dynamodb_calls": calls.total,
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class HealthCheckMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before host checks and HTTPS redirects.

    Load balancer health checks use the task's IP address as the Host header and
    plain HTTP, so they must not depend on ``ALLOWED_HOSTS`` or TLS settings.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return health.liveness()
        if request.path == "/readyz":
            return health.readiness()
        return self.get_response(request)


class DynamoDBUnavailableMiddleware:
    """Turn 'DynamoDB cannot answer' into the 503 page, in every phase, DEBUG or not.

    A view's failure arrives in :meth:`process_exception`. A failure inside a
    middleware below this one (the session saved in the response phase) never
    does: Django turns it into a 500 on the spot (the debug page under DEBUG,
    ``handler500`` otherwise). So the answer is checked on its way out too: a
    5xx from a request that met DynamoDB unavailable becomes the 503 page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        cause = unavailable_cause()
        if cause is not None and response.status_code >= 500 and response.status_code != 503:
            logger.warning("DynamoDB unavailable: %s", outage_summary(cause))
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("DynamoDB unavailable: %s", outage_summary(exception))
        return unavailable_response(request)


class SecurityHeadersMiddleware:
    """Add a Content-Security-Policy and a Permissions-Policy to every response.

    The templates have no inline script or style, so the policy allows only
    this site's own files: an injected ``<script>`` would not run.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(
            "Content-Security-Policy", settings.NEBULA_CONTENT_SECURITY_POLICY
        )
        response.headers.setdefault("Permissions-Policy", settings.NEBULA_PERMISSIONS_POLICY)
        return response
