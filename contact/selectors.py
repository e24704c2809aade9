"""Reads of contact messages. Each access pattern has one function (docs/data-model.md)."""

import re
from dataclasses import dataclass
from typing import Any

from datalayer import cursors
from datalayer.cursors import decode_cursor, encode_cursor

from .models import STATUSES, ContactMessage

PAGE_SIZE = 25
_ID_RE = re.compile(r"[0-9a-f]{32}")

# What a cursor not made for the list raises (callers catch it from here).
InvalidCursorError = cursors.InvalidCursorError


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


def _is_created(value: str) -> bool:
    try:
        ContactMessage.created.deserialize(value)
    except ValueError:
        return False
    return True


def _is_message_id(value: str) -> bool:
    return _ID_RE.fullmatch(value) is not None


def _encode_cursor(status: str, message: ContactMessage) -> str:
    created = ContactMessage.created.serialize(message.created)
    return encode_cursor({"created": created, "id": message.id}, scope=f"contact:{status}")


def _start_key(status: str, cursor: str) -> dict[str, Any]:
    # The index's LastEvaluatedKey: the table's key and the index's keys; the status,
    # the partition, always comes from the caller, and the cursor is for that list only.
    values = decode_cursor(
        cursor,
        scope=f"contact:{status}",
        fields={"created": _is_created, "id": _is_message_id},
    )
    return {
        "id": {"S": values["id"]},
        "status": {"S": status},
        "created": {"S": values["created"]},
    }


def message_list_by_status(
    *, status: str, cursor: str | None = None, page_size: int = PAGE_SIZE
) -> MessagePage:
    """Return one page of messages with this status, newest first (GSI ``by-status``).

    ``cursor`` is the opaque ``next_cursor`` of the page before; one made for
    another status, edited or cut raises ``InvalidCursorError``. One item more
    than a page is read, so a full last page has no "next" leading nowhere.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    start = _start_key(status, cursor) if cursor else None
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
    return MessagePage(messages=page, next_cursor=_encode_cursor(status, page[-1]))
