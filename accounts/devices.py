"""Device cookies: proof that a browser has signed in to an account before.

OWASP's defence against lockout as a weapon
(https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
after a good login the browser gets a signed, long-lived cookie naming the
account and a random nonce. A login attempt that brings a valid cookie for the
account it names spends that device's own failure budget, so someone guessing
from elsewhere cannot lock the owner out; an attempt without one spends the
account's budget for untrusted clients (``accounts.ratelimits``).

The cookie names accounts by a keyed digest of the normalised address, never the
address itself, and is HttpOnly, ``SameSite=Lax`` and Secure like the session
cookie (``SESSION_COOKIE_SECURE``).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import get_random_string, salted_hmac

from .selectors import normalize_email

COOKIE_NAME = "nebula_device"
_SALT = "accounts.devices"
# One browser may sign in to a few accounts; each keeps its own budget there.
_MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class Device:
    """What a valid device cookie says: the browser's nonce and the accounts it signed in to."""

    nonce: str
    accounts: tuple[str, ...]

    def id_for(self, email: str) -> str | None:
        """Return this device's id for the account at ``email``, or None if it never signed in."""
        account = account_digest(email)
        return f"{self.nonce}:{account}" if account in self.accounts else None


def account_digest(email: str) -> str:
    """Name an account in a cookie without writing its address there."""
    return salted_hmac(_SALT, normalize_email(email)[:254]).hexdigest()[:32]


def read(request: HttpRequest) -> Device | None:
    """Return the device the request's cookie proves, or None (absent, forged or expired)."""
    value = request.COOKIES.get(COOKIE_NAME, "")
    if not value or len(value) > 1024:
        return None
    try:
        data = signing.loads(value, salt=_SALT, max_age=settings.NEBULA_DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    nonce, accounts = data.get("n"), data.get("a")
    if not isinstance(nonce, str) or not isinstance(accounts, list):
        return None
    return Device(nonce=nonce, accounts=tuple(a for a in accounts if isinstance(a, str)))


def device_id(request: HttpRequest, email: str) -> str | None:
    """Return the id of this browser as a trusted device of the account at ``email``, if it is."""
    device = read(request)
    return device.id_for(email) if device else None


def remember(request: HttpRequest, response: HttpResponse, *, email: str) -> None:
    """Give the browser a new device cookie for this account, keeping the others it named."""
    previous = read(request)
    account = account_digest(email)
    others = [a for a in (previous.accounts if previous else ()) if a != account]
    # A new nonce at every good login: a fresh budget for the owner, as OWASP says.
    value = signing.dumps(
        {"n": get_random_string(24), "a": [account, *others][:_MAX_ACCOUNTS]}, salt=_SALT
    )
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=settings.NEBULA_DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
