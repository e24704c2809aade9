"""Reads of contact messages. Each access pattern has one function (docs/data-model.md)."""

from dataclasses import dataclass
from typing import Any

from django.core import signing

from .models import STATUSES, ContactMessage

PAGE_SIZE = 25
_CURSOR_SALT = "contact.selectors.cursor"


class InvalidCursorError(ValueError):
    """A page cursor that this site did not make (or for another status)."""


@dataclass(frozen=True)
class MessagePage:
    """One page of a status list, and the cursor of the next page (None on the last)."""

    messages: list[ContactMessage]
    next_cursor: str | None


def message_get(*, message_id: str) -> ContactMessage | None:
    """Return the message with this id, or None."""
    try:
        return ContactMessage.get(message_id, consistent_read=True)
    except ContactMessage.DoesNotExist:
        return None


def _start_key(message: ContactMessage) -> dict[str, Any]:
    # The index's LastEvaluatedKey: the table's key and the index's keys.
    return {
        "id": {"S": message.id},
        "status": {"S": message.status},
        "created": {"S": ContactMessage.created.serialize(message.created)},
    }


def _encode_cursor(status: str, key: dict[str, Any]) -> str:
    # Signed: the admin cannot be handed a crafted ExclusiveStartKey.
    return signing.dumps({"status": status, "key": key}, salt=_CURSOR_SALT, compress=True)


def _decode_cursor(status: str, cursor: str) -> dict[str, Any]:
    try:
        data = signing.loads(cursor, salt=_CURSOR_SALT)
    except signing.BadSignature as exc:
        raise InvalidCursorError("not a page cursor") from exc
    if not isinstance(data, dict) or data.get("status") != status:
        raise InvalidCursorError("a cursor for another list")
    return data["key"]


def message_list_by_status(
    *, status: str, cursor: str | None = None, page_size: int = PAGE_SIZE
) -> MessagePage:
    """Return one page of messages with this status, newest first (GSI ``by-status``).

    ``cursor`` is the opaque ``next_cursor`` of the page before. One item more
    than a page is read, so a full last page has no "next" leading nowhere.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    start = _decode_cursor(status, cursor) if cursor else None
    results = ContactMessage.by_status.query(
        status,
        scan_index_forward=False,
        limit=page_size + 1,
        last_evaluated_key=start,
    )
    messages = list(results)
    if len(messages) <= page_size:
        return MessagePage(messages=messages, next_cursor=None)
    page = messages[:page_size]
    return MessagePage(messages=page, next_cursor=_encode_cursor(status, _start_key(page[-1])))
