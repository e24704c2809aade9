"""Rate limits for the account forms, counted in the shared DynamoDB cache.

django-ratelimit does the counting (``add`` + atomic ``incr`` on
``CACHES["shared"]``), so every Gunicorn worker and every container sees the
same counts. Rates are settings (``NEBULA_RATES``) so operators can tune them.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.decorators import ratelimit

from .selectors import normalize_email


def _rate(name: str) -> Callable[[str, HttpRequest], str]:
    return lambda group, request: settings.NEBULA_RATES[name]


def _posted_email(group: str, request: HttpRequest) -> str:
    # Per account: the address as typed, normalised like the uniqueness claim.
    return normalize_email(request.POST.get("email", ""))[:254]


def _user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk) if request.user.is_authenticated else "anonymous"


def limit(name: str, *, key: str | Callable[[str, HttpRequest], str] = "ip") -> Callable:
    """Block POSTs to the view over ``NEBULA_RATES[name]`` per ``key``."""
    return ratelimit(group=f"accounts.{name}", key=key, rate=_rate(name), method="POST", block=True)


login_per_ip = limit("login_ip")
login_per_account = limit("login_account", key=_posted_email)
signup_per_ip = limit("signup_ip")
password_reset_per_ip = limit("password_reset_ip")
password_reset_per_account = limit("password_reset_account", key=_posted_email)
verification_resend_per_user = limit("verify_resend_user", key=_user)
