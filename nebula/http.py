"""Facts about the HTTP request, and answers, that more than one app needs."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address, trusting only our own proxies' X-Forwarded-For.

    Each trusted proxy (``NEBULA_TRUSTED_PROXY_COUNT``: the ALB is one) appends
    the address it saw; anything further left was written by the client and
    could be anything.
    """
    count = settings.NEBULA_TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        if len(hops) >= count:
            candidate = hops[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - "unknown", not a bind


def outage_summary(error: BaseException) -> str:
    """Name an outage in one line: the error and, if it wraps one, the root cause.

    An outage is expected, not a bug: one warning line per request, no traceback
    (tests/proof/test_load_and_faults.py reads Gunicorn's whole output for one).
    """
    root = error
    for _ in range(10):  # a chain is short; never loop on a cycle
        inner = root.__cause__ or root.__context__
        if inner is None:
            break
        root = inner
    if root is error:
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error} ({type(root).__name__}: {root})"


def unavailable_response(
    request: HttpRequest | None = None, *, data: dict | None = None
) -> HttpResponse:
    """Return the calm 503 answer that tells the client when to try again.

    The 503 page for browsers; JSON for a client that asks for it or when ``data``
    (the JSON body, as for ``/readyz``) is given. Every "DynamoDB is unavailable"
    answer comes from here, so each carries ``Retry-After``. The page is rendered
    without the request: it must not load the session or the user, which is what
    failed.
    """
    retry_after = settings.NEBULA_RETRY_AFTER_SECONDS
    wants_json = request is not None and "json" in request.headers.get("Accept", "")
    if data is not None or wants_json:
        response: HttpResponse = JsonResponse(
            data if data is not None else {"error": "service unavailable"}, status=503
        )
    else:
        body = render_to_string("503.html", {"retry_after_seconds": retry_after})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    # Logged once, as a warning with the cause, by the caller; Django would add
    # an ERROR line for every 503 as if it were a bug.
    response._has_been_logged = True
    return response
