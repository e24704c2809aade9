"""Opaque page cursors: where the next page of a DynamoDB Scan or Query starts.

A cursor is the page's ``LastEvaluatedKey`` reduced to its string values,
written as URL-safe base64 of compact JSON. It leaves the server in a link and
comes back as untrusted input, so :func:`decode_cursor` checks it whole: valid
base64 and JSON, an object with exactly the expected fields, each value a string
its field's check accepts. Anything else raises ``InvalidCursorError``, which a
page turns into a message, never a 500.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping

# A cursor names a key or two; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 512


class InvalidCursorError(ValueError):
    """The text is not a cursor this site made."""


def encode_cursor(values: Mapping[str, str]) -> str:
    """Return the cursor for a page that starts after the item with these key values."""
    raw = json.dumps(dict(values), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, *, fields: Mapping[str, Callable[[str], bool]]) -> dict[str, str]:
    """Return the key values of ``text``: exactly ``fields``, each accepted by its check."""
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor missing or too long")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("cursor is not base64 JSON") from exc
    if not isinstance(values, dict) or set(values) != set(fields):
        raise InvalidCursorError("cursor has other fields")
    for name, check in fields.items():
        value = values[name]
        if not isinstance(value, str) or not check(value):
            raise InvalidCursorError(f"cursor field {name!r} is not valid")
    return values
