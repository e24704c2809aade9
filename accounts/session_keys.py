"""What the sessions table holds of a session key: a keyed hash, never the key.

The key in the cookie is a bearer secret. The table's hash key is
:func:`stored_id`, an HMAC-SHA256 of the whole key under a key derived from
``SECRET_KEY``: reading the table, its by-user index or a backup gives nothing
a browser could present. Pages and forms name a session by :func:`public_id`,
a hash of the stored id, which gives neither the key nor the stored id.

``SECRET_KEY`` rotates with ``SECRET_KEY_FALLBACKS``: a key may be stored under
the id of the current secret or of any fallback (:func:`stored_ids`), and the
engine asks for all of them in its one read.
"""

import hashlib

from django.conf import settings
from django.utils.crypto import salted_hmac

_STORED_ID_SALT = "accounts.session_keys.stored_id"
_PUBLIC_ID_PREFIX = b"accounts.session_keys.public_id:"


def stored_id(key: str, *, secret: str | bytes | None = None) -> str:
    """Return the sessions table's hash key for ``key`` (``secret``: default SECRET_KEY)."""
    return salted_hmac(_STORED_ID_SALT, key, secret=secret, algorithm="sha256").hexdigest()


def stored_ids(key: str) -> list[str]:
    """Return every id ``key`` may be stored under: SECRET_KEY's first, then each fallback's."""
    ids = [stored_id(key)]
    ids += [stored_id(key, secret=secret) for secret in settings.SECRET_KEY_FALLBACKS]
    return list(dict.fromkeys(ids))


def public_id(stored: str) -> str:
    """Name a stored session in pages and forms (20 hex characters)."""
    return hashlib.sha256(_PUBLIC_ID_PREFIX + stored.encode()).hexdigest()[:20]


def public_ids(key: str) -> set[str]:
    """Return the public ids the session with this key may be listed under."""
    return {public_id(stored) for stored in stored_ids(key)}
