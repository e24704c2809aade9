"""The accounts' rate limits, built on ``nebula.ratelimit``.

Per-request limits (``limit``) count every POST per client IP, per posted address
or per signed-in user. Logging in also has failure budgets, after OWASP's device
cookies (``accounts.devices``): a wrong password spends the budget of the device
that brought a valid cookie for the account (``login_device``), or else the
account's budget for untrusted clients (``login_account``). Each attempt holds
its unit while the password is checked, so simultaneous guesses cannot overrun. So guesses per
account stay bounded however many addresses an attacker uses, while the owner's
browser keeps signing in. A completed password reset clears the account's counts.
A wrong second-factor code spends the user's own budget (``second_factor_attempt``).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest

from nebula.ratelimit import Budget, by_user, limit

from . import devices
from .selectors import normalize_email


def _posted_email(group: str, request: HttpRequest) -> str:
    # Per account: the address as typed, normalised like the uniqueness claim.
    return normalize_email(request.POST.get("email", ""))[:254]


def _account_budget(email: str) -> Budget:
    return Budget("login_account", normalize_email(email)[:254])


def login_failure_budget(request: HttpRequest) -> Budget:
    """Return the failure budget this login attempt spends: its device's, else the account's."""
    email = request.POST.get("email", "")
    device = devices.device_id(request, email)
    return Budget("login_device", device) if device else _account_budget(email)


class LoginAttempt:
    """Whether the attempt inside :func:`login_attempt` failed (a password was refused)."""

    failed = False


@contextmanager
def login_attempt(request: HttpRequest) -> Iterator[LoginAttempt]:
    """Hold one unit of this attempt's failure budget; give it back unless the attempt failed.

    Raises ``RateLimited`` (a 429) before the password is checked if the budget is spent.
    """
    budget = login_failure_budget(request)
    budget.take()
    attempt = LoginAttempt()
    try:
        yield attempt
    finally:
        if not attempt.failed:
            budget.give_back()


def login_failures_clear(*, email: str, device: str | None = None) -> None:
    """Forget the account's failed logins from untrusted clients, and from ``device``."""
    _account_budget(email).clear()
    if device:
        Budget("login_device", device).clear()


class SecondFactorAttempt:
    """Whether the attempt inside :func:`second_factor_attempt` failed (a code was refused)."""

    failed = False


@contextmanager
def second_factor_attempt(*, user_id: str) -> Iterator[SecondFactorAttempt]:
    """Hold one unit of the user's second-factor failure budget; give it back unless it failed.

    Raises ``RateLimited`` (a 429 with ``Retry-After``) before the code is checked
    once the budget is spent: six digits must not be guessable at request speed.
    """
    budget = Budget("second_factor_user", user_id)
    budget.take()
    attempt = SecondFactorAttempt()
    try:
        yield attempt
    finally:
        if not attempt.failed:
            budget.give_back()


login_per_ip = limit("login_ip")
signup_per_ip = limit("signup_ip")
password_reset_per_ip = limit("password_reset_ip")
password_reset_per_account = limit("password_reset_account", key=_posted_email)
verification_resend_per_user = limit("verify_resend_user", key=by_user)
email_change_per_user = limit("email_change_user", key=by_user)
# Each upload is a picture to check and store and a job to run.
avatar_upload_per_user = limit("avatar_upload_user", key=by_user)
# Forms that re-check the password of a signed-in user: a stolen session must
# not be a free password-guessing oracle.
password_check_per_user = limit("password_check_user", key=by_user)
