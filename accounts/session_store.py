"""Django's session engine on DynamoDB (``SESSION_ENGINE = "accounts.session_store"``).

Keeps the whole ``SessionBase`` contract. Two things are particular to Nebula:

* A signed-in session's key starts with the user's id (``<user id>.<32 random
  characters>``), so loading it reads the session *and* its user in one
  BatchGetItem: an authenticated page costs one DynamoDB read
  (``accounts.auth.get_user`` takes the user from :attr:`prefetched_user`).
* Each item also records who, from where and when (user id for the by-user
  index, IP address, user agent, created, last seen) for the sessions page.
"""

import re
from datetime import datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import (
    VALID_KEY_CHARS,
    CreateError,
    SessionBase,
    UpdateError,
)
from django.utils import timezone
from django.utils.crypto import get_random_string

from . import selectors, services
from .models import User

_USER_ID_RE = re.compile(r"^([0-9a-f]{32})\.[0-9a-z]{32}$")
_ANONYMOUS_RE = re.compile(r"^[0-9a-z]{32}$")


def user_id_from_key(session_key: str | None) -> str | None:
    """Return the user id a signed-in session's key starts with, if it has one."""
    match = _USER_ID_RE.fullmatch(session_key or "")
    return match.group(1) if match else None


class SessionStore(SessionBase):
    """Sessions in the ``sessions`` table."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self.prefetched_user: User | None = None
        self.created: datetime | None = None
        self.last_seen: datetime | None = None
        # Set by accounts.middleware.SessionMiddleware for each request.
        self.client_ip: str | None = None
        self.user_agent: str | None = None

    def _validate_session_key(self, key: str | None) -> bool:
        # Only keys this engine makes: anything else (a planted or overlong
        # cookie) is treated as no session, without asking DynamoDB.
        return bool(key) and bool(_USER_ID_RE.fullmatch(key) or _ANONYMOUS_RE.fullmatch(key))

    def _get_new_session_key(self) -> str:
        data = getattr(self, "_session_cache", None) or {}
        user_id = data.get(SESSION_KEY)
        # No exists() check: create() writes with "must not exist" and retries.
        random_part = get_random_string(32, VALID_KEY_CHARS)
        return f"{user_id}.{random_part}" if user_id else random_part

    def get_session_cookie_age(self) -> int:
        # "Keep me signed in" off: the cookie ends with the browser, and the
        # server forgets the session after NEBULA_BROWSER_SESSION_AGE anyway.
        if self.get("_session_expiry") == 0:
            return settings.NEBULA_BROWSER_SESSION_AGE
        return settings.SESSION_COOKIE_AGE

    def load(self) -> dict:
        key = self.session_key
        if key is None:
            return {}
        user_id = user_id_from_key(key)
        if user_id:
            session, self.prefetched_user = selectors.session_and_user_get(key=key, user_id=user_id)
        else:
            session = selectors.session_get(key=key)
        if session is None:
            self._session_key = None
            return {}
        self.created = session.created
        self.last_seen = session.last_seen
        return self.decode(session.data)

    def exists(self, session_key: str) -> bool:
        if not self._validate_session_key(session_key):
            return False
        return selectors.session_get(key=session_key) is not None

    def create(self) -> None:
        self.created = None  # a new session, even when this store held another
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        now = timezone.now()
        saved = services.session_save(
            key=self._get_or_create_session_key(),
            data=self.encode(data),
            expires=self.get_expiry_date(),
            user_id=data.get(SESSION_KEY),
            created=self.created or now,
            ip=self.client_ip,
            user_agent=self.user_agent,
            must_create=must_create,
        )
        if not saved:
            # Creating: the key is taken. Updating: the session was ended
            # meanwhile (signed out elsewhere); never bring it back.
            raise CreateError if must_create else UpdateError
        self.created = self.created or now
        self.last_seen = now
        return None

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if key is None:
            return
        services.session_delete(key=key)

    def needs_last_seen_stamp(self) -> bool:
        """Say whether "last seen" is older than the stamping interval."""
        if self.last_seen is None or self.session_key is None:
            return False
        return timezone.now() - self.last_seen >= services.LAST_SEEN_INTERVAL

    @classmethod
    def clear_expired(cls) -> None:
        services.session_delete_expired()
