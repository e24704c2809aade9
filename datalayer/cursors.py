"""Opaque page cursors: where the next page of a DynamoDB Scan or Query starts.

The one cursor format of the project (the admin's lists, "My jobs", the
operators' ``users list --cursor``, the Lambda export's paging). A cursor names
the last item of a page by its key values, all strings, and the list it belongs
to (its *scope*: ``"jobs:owner:<id>"``, ``"contact:new"``...)::

    <payload>.<check>
    payload: URL-safe base64 (unpadded) of compact JSON, an object of strings
    check:   the first 32 hex characters of HMAC-SHA256(key, scope + "\\n" + payload)

It leaves the server in a link and comes back as untrusted input, so
:func:`decode_cursor` checks it whole: its length, the check (so an edited or
cut cursor, or one of another list, is refused before anything is decoded),
then valid base64 and JSON, an object with exactly the expected fields, each a
string its field's check accepts. Anything else raises
:class:`InvalidCursorError`, which a page turns into a message and the first
page, never a 500 or a DynamoDB error.

**The key.** The site calls :func:`configure` when Django is ready with keys
derived from ``SECRET_KEY`` and its fallbacks (``nebula.apps``), so nobody can
make a cursor the site accepts without the secret, and rotating ``SECRET_KEY``
keeps the cursors of the fallbacks working until they are dropped. Without
:func:`configure` (Lambda code, which makes and reads its cursors in one
invocation) the key is empty: the check still refuses an edited or cut cursor,
but whoever reads this code could compute it. That is safe because the check
is not what protects the data: each caller validates every field and puts the
partition (the owner, the status) back from its own arguments, so even a forged
cursor can only name a position inside the list the caller was allowed to read.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence

# A cursor names a key or two; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 512
_CHECK_CHARS = 32

# The first key signs; every key is accepted (the others are SECRET_KEY's fallbacks).
_keys: list[bytes] = [b""]


class InvalidCursorError(ValueError):
    """The text is not a cursor made for this list (edited, cut, another list's, or stale)."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__("This page link is not valid any more; start again from the first page.")


def configure(*, keys: Sequence[bytes]) -> None:
    """Sign new cursors with ``keys[0]``; accept cursors signed with any of ``keys``."""
    if not keys:
        raise ValueError("give at least one key")
    _keys[:] = list(keys)


def _check(key: bytes, scope: str, payload: str) -> str:
    digest = hmac.new(key, f"{scope}\n{payload}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_CHECK_CHARS]


def encode_cursor(values: Mapping[str, str], *, scope: str) -> str:
    """Return the cursor of the page of ``scope`` that starts after the item with these keys."""
    if not all(isinstance(value, str) for value in values.values()):
        raise TypeError("cursor values must be strings")
    raw = json.dumps(dict(values), separators=(",", ":"), sort_keys=True).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_check(_keys[0], scope, payload)}"


def decode_cursor(
    text: str, *, scope: str, fields: Mapping[str, Callable[[str], bool]]
) -> dict[str, str]:
    """Return the key values of ``text``: exactly ``fields``, each accepted by its check.

    Raises :class:`InvalidCursorError` for anything :func:`encode_cursor` did not
    make for ``scope`` under one of the configured keys.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor missing or too long")
    payload, dot, check = text.partition(".")
    if not payload or not dot or not check.isascii():
        raise InvalidCursorError("cursor has no check")
    if not any(hmac.compare_digest(check, _check(key, scope, payload)) for key in _keys):
        raise InvalidCursorError("cursor check does not match (edited, or another list's)")
    try:
        raw = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("cursor is not base64 JSON") from exc
    if not isinstance(values, dict) or set(values) != set(fields):
        raise InvalidCursorError("cursor has other fields")
    for name, accept in fields.items():
        value = values[name]
        if not isinstance(value, str) or not accept(value):
            raise InvalidCursorError(f"cursor field {name!r} is not valid")
    return values
