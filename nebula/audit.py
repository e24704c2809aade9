"""The audit log: who did what to which entity, when, and the values before and after.

Generic on purpose: any app records its admin actions here (``audit_record``, or
``audit_entry`` saved inside the app's own ``TransactWrite`` so the change and
its record are written together or not at all). Entries are never changed or
deleted by the site. Reads are Queries on three GSIs, newest first, a page at a
time (docs/data-model.md, ``audit``): the whole log, one actor's actions, one
entity's history. No Scan.
"""

import getpass
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from datalayer.cursors import decode_cursor, encode_cursor
from datalayer.models import NebulaModel

# Every entry is in one partition of the by-time index: the admin writes a few
# entries a minute, far below what one partition takes (1,000 writes/s).
FEED = "all"

# Where an action came from: the admin's pages, or an operator's manage.py command.
SOURCE_ADMIN = "admin"
SOURCE_COMMAND = "command"
SOURCES = (SOURCE_ADMIN, SOURCE_COMMAND)
OPERATOR_PREFIX = "operator:"

# "20261129T091500123456Z-1a2b3c4d": sorts by time, unique.
_ENTRY_ID_RE = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{8}")
# Actor and entity ids are opaque to the log; this is what a link may carry.
_TOKEN_RE = re.compile(r"[A-Za-z0-9_.:@+-]{1,128}")
_TYPE_RE = re.compile(r"[a-z][a-z_]{0,31}")


def is_token(value: str) -> bool:
    """Say whether ``value`` can be an actor or entity id in the log."""
    return _TOKEN_RE.fullmatch(value) is not None


def is_entity_type(value: str) -> bool:
    """Say whether ``value`` can be an entity type ("user", "contact_message")."""
    return _TYPE_RE.fullmatch(value) is not None


def operator_id() -> str:
    """Return the audit actor of a ``manage.py`` command: ``operator:<login name>``.

    The login name of whoever runs the command (``getpass.getuser()``: ``LOGNAME``,
    ``USER``..., else the password database), kept to the characters an actor id
    may hold. The log can be filtered by it like by an admin's user id.
    """
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login variables and no passwd entry (some containers)
        name = ""
    name = re.sub(r"[^A-Za-z0-9_.@+-]", "_", name)[: 128 - len(OPERATOR_PREFIX)]
    return OPERATOR_PREFIX + (name or "unknown")


class _ByTime(GlobalSecondaryIndex):
    """The whole log, newest first."""

    class Meta:
        index_name = "by-time"
        projection = AllProjection()

    feed = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class _ByActor(GlobalSecondaryIndex):
    """What one admin did, newest first."""

    class Meta:
        index_name = "by-actor"
        projection = AllProjection()

    actor_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class _ByEntity(GlobalSecondaryIndex):
    """What was done to one entity ("user:<id>"), newest first."""

    class Meta:
        index_name = "by-entity"
        projection = AllProjection()

    entity = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class AuditEntry(NebulaModel):
    """One admin action."""

    class Meta:
        table_name = "audit"

    id = UnicodeAttribute(hash_key=True)
    feed = UnicodeAttribute(default=FEED)
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute()
    # What the actor and entity were called then (an address): they may be deleted later.
    actor_label = UnicodeAttribute(default="")
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    entity = UnicodeAttribute()  # "<entity_type>:<entity_id>", the by-entity key
    entity_label = UnicodeAttribute(default="")
    # SOURCE_ADMIN or SOURCE_COMMAND; entries from before it existed read None (the admin).
    source = UnicodeAttribute(null=True)
    before = JSONAttribute(default=dict)
    after = JSONAttribute(default=dict)
    by_time = _ByTime()
    by_actor = _ByActor()
    by_entity = _ByEntity()

    @property
    def source_name(self) -> str:
        """Say where the action came from ("admin" or "command")."""
        return self.source or SOURCE_ADMIN

    def changes(self) -> list[tuple[str, Any, Any]]:
        """Return (field, before, after) for every field either side names, sorted."""
        names = sorted(set(self.before) | set(self.after))
        return [(name, self.before.get(name), self.after.get(name)) for name in names]


def _entry_id(at: datetime) -> str:
    return f"{at:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}"


def audit_entry(
    *,
    actor_id: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict,
    after: dict,
    actor_label: str = "",
    entity_label: str = "",
    source: str = SOURCE_ADMIN,
) -> AuditEntry:
    """Build an entry (not yet saved): save it in the caller's ``TransactWrite``.

    ``before`` and ``after`` hold only the fields the action changed, as JSON
    values; anything JSON cannot hold raises ``TypeError`` here, not at save.
    ``source`` says where the action came from (``SOURCE_COMMAND`` for ``manage.py``,
    whose actor is :func:`operator_id`).
    """
    if not is_token(actor_id) or not is_token(entity_id) or not is_entity_type(entity_type):
        raise ValueError("actor, entity type or entity id is not a valid audit token")
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}")
    json.dumps([before, after])
    at = timezone.now()
    return AuditEntry(
        _entry_id(at),
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity=f"{entity_type}:{entity_id}",
        entity_label=entity_label,
        source=source,
        before=before,
        after=after,
    )


def audit_record(**fields: Any) -> AuditEntry:
    """Build and save an entry (``PutItem``), for actions that are no transaction."""
    entry = audit_entry(**fields)
    entry.save(condition=AuditEntry.id.does_not_exist())
    return entry


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, and the cursor of the next (None on the last page)."""

    entries: list[AuditEntry]
    next_cursor: str | None


def audit_list(
    *,
    actor_id: str | None = None,
    entity: tuple[str, str] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditPage:
    """Return one page of entries, newest first: one Query, never a Scan.

    ``entity`` is (type, id). With both filters the entity's index is read and
    the actor filtered on, so such a page may hold fewer than ``limit`` entries
    while more follow. Raises ``InvalidCursorError`` for a cursor this site did not make.
    """
    if entity is not None:
        index, hash_name, hash_value = AuditEntry.by_entity, "entity", f"{entity[0]}:{entity[1]}"
    elif actor_id is not None:
        index, hash_name, hash_value = AuditEntry.by_actor, "actor_id", actor_id
    else:
        index, hash_name, hash_value = AuditEntry.by_time, "feed", FEED
    # A cursor pages the list it was made for only (the filters are its scope).
    scope = f"audit:{hash_name}:{hash_value}:{actor_id if entity and actor_id else ''}"
    start = None
    if cursor:
        values = decode_cursor(
            cursor, scope=scope, fields={"id": lambda v: bool(_ENTRY_ID_RE.fullmatch(v))}
        )
        start = {"id": {"S": values["id"]}, hash_name: {"S": hash_value}}
    results = index.query(
        hash_value,
        filter_condition=(AuditEntry.actor_id == actor_id) if entity and actor_id else None,
        scan_index_forward=False,
        page_size=limit,
        last_evaluated_key=start,
    )
    page = next(results.page_iter, {})
    entries = [AuditEntry.from_raw_data(item) for item in page.get("Items", [])]
    last = results.page_iter.last_evaluated_key
    return AuditPage(
        entries=entries,
        next_cursor=encode_cursor({"id": last["id"]["S"]}, scope=scope) if last else None,
    )
