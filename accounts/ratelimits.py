"""Rate limits for the account forms, counted in the shared DynamoDB cache.

django-ratelimit does the counting (``add`` + atomic ``incr`` on
``CACHES["shared"]``), so every Gunicorn worker and every container sees the
same counts. Rates are settings (``NEBULA_RATES``) so operators can tune them.
A blocked request is answered by ``nebula.views.rate_limited`` (429), which
reads ``request.retry_after`` set here.
"""

import functools
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from .selectors import normalize_email

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def period_seconds(rate: str) -> int:
    """Return the window of a django-ratelimit rate ("10/15m" → 900)."""
    match = re.fullmatch(r"\d+/(\d*)([smhd])", rate)
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    return int(match.group(1) or 1) * _UNITS[match.group(2)]


def _posted_email(group: str, request: HttpRequest) -> str:
    # Per account: the address as typed, normalised like the uniqueness claim.
    return normalize_email(request.POST.get("email", ""))[:254]


def _user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk) if request.user.is_authenticated else "anonymous"


def limit(name: str, *, key: str | Callable[[str, HttpRequest], str] = "ip") -> Callable:
    """Block POSTs to the view over ``NEBULA_RATES[name]`` per ``key``."""

    def rate(group: str, request: HttpRequest) -> str:
        return settings.NEBULA_RATES[name]

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        limited = ratelimit(group=f"accounts.{name}", key=key, rate=rate, method="POST")(view)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                return limited(request, *args, **kwargs)
            except Ratelimited:
                request.retry_after = period_seconds(settings.NEBULA_RATES[name])
                raise

        return wrapper

    return decorator


login_per_ip = limit("login_ip")
login_per_account = limit("login_account", key=_posted_email)
signup_per_ip = limit("signup_ip")
password_reset_per_ip = limit("password_reset_ip")
password_reset_per_account = limit("password_reset_account", key=_posted_email)
verification_resend_per_user = limit("verify_resend_user", key=_user)
email_change_per_user = limit("email_change_user", key=_user)
# Forms that re-check the password of a signed-in user: a stolen session must
# not be a free password-guessing oracle.
password_check_per_user = limit("password_check_user", key=_user)
