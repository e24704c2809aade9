"""The admin's second-factor gate: a session flag the admin checks and an app sets.

The admin (``nebula.admin``) lets a staff member in only once their session has
passed a second factor. The app that verifies one (its pages are at
``settings.NEBULA_ADMIN_SECOND_FACTOR_URL``) calls :func:`mark_passed`; signing
in calls :func:`clear`. The flag is the user's id, so it never vouches for
another user on the same session, and checking it costs no DynamoDB read.
"""

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.middleware.csrf import rotate_token

SESSION_KEY = "_nebula_second_factor"


def passed(request: HttpRequest) -> bool:
    """Say whether this session's signed-in user has passed their second factor."""
    user = request.user
    return user.is_authenticated and request.session.get(SESSION_KEY) == str(user.pk)


def mark_passed(request: HttpRequest) -> None:
    """Record that the signed-in user passed their second factor, under a new session key.

    A new key (and CSRF token) for the raised privilege: a session key planted or
    seen before this moment is worth nothing now.
    """
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(request.user.pk)
    rotate_token(request)


def clear(session: SessionBase) -> None:
    """Forget that the session passed a second factor (at every sign-in)."""
    session.pop(SESSION_KEY, None)
