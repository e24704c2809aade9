"""Django's session engine on DynamoDB (``SESSION_ENGINE = "accounts.session_store"``).

Keeps the whole ``SessionBase`` contract. What is particular to Nebula:

* The table never holds a key: items are stored under a keyed hash of it
  (``accounts.session_keys``), looked up under the current ``SECRET_KEY`` and
  its fallbacks in the same read.
* A signed-in session's key starts with the user's id (``<user id>.<32 random
  characters>``), so loading it reads the session *and* its user in one
  BatchGetItem: an authenticated page costs one DynamoDB read
  (``accounts.auth.get_user`` takes the user from :attr:`prefetched_user`).
  Only keys of the two shapes this engine makes are looked up (Django's base
  accepts any key of 8 characters or more).
* :meth:`expire_with_browser`: a cookie that ends with the browser, and a
  session the server forgets sooner, both explicit in the session.
* Each item also records who, from where and when (user id for the by-user
  index, IP address, user agent, created, last seen). A signed-in session is
  also an entry in its user's session list (``accounts.models``), written in
  the same transaction as the session: a page that shows the list asks for it
  *before* the session loads (:attr:`fetch_session_list`, set by the view's
  decorator), and the one BatchGetItem reads it too.
"""

import re
from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import (
    VALID_KEY_CHARS,
    CreateError,
    SessionBase,
    UpdateError,
)
from django.utils import timezone
from django.utils.crypto import get_random_string

from . import selectors, services, session_keys
from .models import Session, SessionEntry, User
from .useragent import describe_device

_USER_ID_RE = re.compile(r"^([0-9a-f]{32})\.[0-9a-z]{32}$")
_ANONYMOUS_RE = re.compile(r"^[0-9a-z]{32}$")
# Set with the "server forgets it sooner" expiry by expire_with_browser().
BROWSER_SESSION_KEY = "_browser_session"


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
        # (key, stored id) of the item load() found: maybe under a fallback secret.
        self._found: tuple[str, str] | None = None
        # Set by accounts.middleware.SessionMiddleware for each request.
        self.client_ip: str | None = None
        self.user_agent: str | None = None
        # Set before the load by a view that shows the session list: load() reads it too.
        self.fetch_session_list = False
        self._entries: list[SessionEntry] | None = None
        # The session item load() found (what this session's list entry shows).
        self._item: Session | None = None

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

    def expire_with_browser(self, *, server_age: int) -> None:
        """End the cookie with the browser; forget the session ``server_age`` s after its last save.

        The age is an explicit expiry, so ``get_expiry_age()`` and
        ``get_expiry_date()`` say what the server keeps; Django's own
        ``set_expiry(0)`` would keep it for ``SESSION_COOKIE_AGE``.
        """
        self.set_expiry(server_age)
        self[BROWSER_SESSION_KEY] = True

    def set_expiry(self, value: object) -> None:
        """Django's ``set_expiry``; it also undoes :meth:`expire_with_browser`."""
        super().set_expiry(value)
        self.pop(BROWSER_SESSION_KEY, None)

    async def aset_expiry(self, value: object) -> None:
        await super().aset_expiry(value)
        await self.apop(BROWSER_SESSION_KEY, None)

    def get_expire_at_browser_close(self) -> bool:
        return bool(self.get(BROWSER_SESSION_KEY)) or super().get_expire_at_browser_close()

    async def aget_expire_at_browser_close(self) -> bool:
        if await self.aget(BROWSER_SESSION_KEY):
            return True
        return await super().aget_expire_at_browser_close()

    @property
    def stored_id(self) -> str | None:
        """Return the sessions table's hash key for this session (None without a key)."""
        key = self.session_key
        return None if key is None else self._stored_id(key)

    def _stored_id(self, key: str) -> str:
        if self._found is not None and self._found[0] == key:
            return self._found[1]
        return session_keys.stored_id(key)

    def load(self) -> dict:
        key = self.session_key
        if key is None:
            return {}
        ids = session_keys.stored_ids(key)
        user_id = user_id_from_key(key)
        if user_id and self.fetch_session_list:
            session, self.prefetched_user, self._entries = selectors.session_user_and_list_get(
                ids=ids, user_id=user_id
            )
        elif user_id:
            session, self.prefetched_user = selectors.session_and_user_get(ids=ids, user_id=user_id)
        else:
            session = selectors.session_get(ids=ids)
        if session is None:
            self._session_key = None
            return {}
        self._found = (key, session.id)
        self._item = session
        self.created = session.created
        self.last_seen = session.last_seen
        return self.decode(session.data)

    def exists(self, session_key: str) -> bool:
        if not self._validate_session_key(session_key):
            return False
        return selectors.session_get(ids=session_keys.stored_ids(session_key)) is not None

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
            stored_id=self._stored_id(self._get_or_create_session_key()),
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
        if self._found is not None and self._found[0] == key:
            stored_ids = [self._found[1]]
        else:
            # A key this store did not load may be stored under a fallback secret's id.
            stored_ids = session_keys.stored_ids(key)
        user_id = user_id_from_key(key)
        if user_id is None and key == self.session_key:
            # A signed-in session under an anonymous-shaped key (saved without cycle_key).
            user_id = (getattr(self, "_session_cache", None) or {}).get(SESSION_KEY)
        services.session_delete(stored_ids=stored_ids, user_id=user_id)

    def needs_last_seen_stamp(self) -> bool:
        """Say whether "last seen" is older than the stamping interval."""
        if self.last_seen is None or self.session_key is None:
            return False
        return timezone.now() - self.last_seen >= services.LAST_SEEN_INTERVAL

    def stamp_last_seen(self) -> None:
        """Stamp "last seen" on this session, and on its list entry if it is signed in."""
        item = self._loaded_item()
        if item is None:
            return
        services.session_touch(
            stored_id=item.id,
            ip=self.client_ip,
            user_id=item.user_id,
            user_agent=item.user_agent,
            created=item.created,
            expires=item.expires,
        )

    def _loaded_item(self) -> Session | None:
        """Return the item load() found, if it is still this session's."""
        key = self.session_key
        if self._item is None or self._found is None or key is None or self._found[0] != key:
            return None
        return self._item

    def session_entries(self) -> list[SessionEntry]:
        """Return the entries of this user's session list (expired ones too).

        Read with the session when :attr:`fetch_session_list` was set before the
        load, else with one read of its own. This session's entry is made from its
        own item, which load() just read: it is listed even if its entry is
        missing (a session from before the lists).
        """
        user_id = self.get(SESSION_KEY)
        if not user_id:
            return []
        item = self._loaded_item()
        # A key cycled since the load (a rotated secret) made the list read with it stale.
        entries = self._entries if item is not None else None
        if entries is None:
            entries = selectors.session_entries_get(user_id=user_id)
        if item is None:
            return entries
        current = SessionEntry(
            stored_id=item.id,
            device=describe_device(item.user_agent),
            ip=item.ip,
            created=item.created,
            last_seen=item.last_seen,
            expires=item.expires,
        )
        return [e for e in entries if e.stored_id != item.id] + [current]

    @classmethod
    def clear_expired(cls) -> None:
        services.session_delete_expired()
