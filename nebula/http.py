"""Facts about the HTTP request that more than one app needs."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
