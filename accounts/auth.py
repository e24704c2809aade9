"""Django's auth, without the ORM: ``login()``, ``get_user()``, the middleware, the backend.

Django's own ``login()`` needs ``user._meta`` and its ``get_user()`` parses the
primary key through ``AUTH_USER_MODEL``; these two replace them and keep the same
session keys, so ``logout``, ``update_session_auth_hash`` and ``login_required``
work unchanged.
"""

from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    user_logged_in,
)
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from nebula import second_factor

from . import selectors, services
from .models import User

BACKEND = "accounts.auth.EmailBackend"
# Refused before hashing: Argon2 on a megabyte is a denial of service.
MAX_PASSWORD_LENGTH = 512


def login(request: HttpRequest, user: User, *, remember: bool) -> None:
    """Sign ``user`` in on this request's session, under a brand-new session key."""
    session = request.session
    if session.get(SESSION_KEY) not in (None, user.pk):
        # Another user's session: start from nothing.
        session.flush()
    # Every sign-in asks the admin's second factor again.
    second_factor.clear(session)
    session[SESSION_KEY] = user.pk
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if remember:
        session.set_expiry(None)  # SESSION_COOKIE_AGE, on both sides
    else:
        session.expire_with_browser(server_age=settings.NEBULA_BROWSER_SESSION_AGE)
    # Session fixation defence: whatever key the visitor arrived with is
    # discarded; the new one also starts with the user id (one-read loads).
    session.cycle_key()
    request.user = user
    rotate_token(request)
    services.user_record_login(user=user)
    user_logged_in.send(sender=User, request=request, user=user)


def get_user(request: HttpRequest) -> User | AnonymousUser:
    """Return the signed-in user, checking on every request that they may still be."""
    session = request.session
    user_id = session.get(SESSION_KEY)
    if not user_id or session.get(BACKEND_SESSION_KEY) != BACKEND:
        return AnonymousUser()
    user = getattr(session, "prefetched_user", None)
    if user is None or user.pk != user_id:
        user = selectors.user_get(user_id=user_id)
    if user is None or not user.is_active or not _verify_session_hash(session, user):
        # Deactivated, deleted, or the password changed: this session is over.
        session.flush()
        return AnonymousUser()
    return user


def _verify_session_hash(session: SessionBase, user: User) -> bool:
    """Check the session's password hash, as Django's ``get_user`` does.

    A hash made with one of ``SECRET_KEY_FALLBACKS`` (the secret was rotated)
    still counts: the session moves to a new key (stored under the current
    secret) with the current hash.
    """
    session_hash = session.get(HASH_SESSION_KEY) or ""
    current = user.get_session_auth_hash()
    if constant_time_compare(session_hash, current):
        return True
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        session.cycle_key()
        session[HASH_SESSION_KEY] = current
        return True
    return False


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's middleware, loading the user from DynamoDB (lazily: 0 calls if unused)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
        request.auser = partial(sync_to_async(get_user), request)


class EmailBackend(BaseBackend):
    """Authenticate by email address and password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        email: str | None = None,
        password: str | None = None,
        **_: Any,
    ) -> User | None:
        if not email or not password or len(password) > MAX_PASSWORD_LENGTH:
            return None
        # Two reads and one hash whether or not the account exists: the same time either way.
        user = selectors.user_get_by_email(email=email, always_two_reads=True)
        if user is None:
            make_password(password)
            return None

        # Django calls the setter when the stored hash uses older settings.
        def upgrade(raw: str) -> None:
            services.user_rehash_password(user=user, password=raw)

        if check_password(password, user.password, setter=upgrade) and user.is_active:
            return user
        return None

    def get_user(self, user_id: str) -> User | None:
        return selectors.user_get(user_id=user_id)
