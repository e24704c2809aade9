"""Reads of accounts data. Each access pattern has one function (docs/data-model.md)."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from pynamodb.expressions.condition import Condition

from datalayer import cursors
from datalayer.cursors import decode_cursor, encode_cursor
from datalayer.models import connection
from nebula.email_addresses import InvalidEmailError, email_key
from pictures import avatar as avatars

from . import session_keys
from .models import (
    EmailClaim,
    SecondFactor,
    Session,
    SessionEntry,
    User,
    is_user_id,
    session_entries_decode,
    session_list_key,
)
from .useragent import describe_device

logger = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    """Return the form of an address that uniqueness is checked on (``email_key``).

    Text that is no usable address keys as itself, trimmed and lower-cased: it
    can match no claim made since addresses are canonical, and it still counts
    for a per-account rate limit.
    """
    try:
        return email_key(email)
    except InvalidEmailError:
        return email.strip().lower()


def user_get(*, user_id: str) -> User | None:
    """Return the user with this id, or None."""
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        return None


# No user has this id (ids are 32 hex characters); reading it costs what a real read costs.
_NOBODY = "nobody"


def user_get_by_email(*, email: str, always_two_reads: bool = False) -> User | None:
    """Return the user who holds this address (any case or form of its domain).

    ``always_two_reads``: read a user item even when no one holds the address,
    so the time taken does not tell whether an account exists.
    """
    try:
        claim = EmailClaim.get(normalize_email(email), consistent_read=True)
    except EmailClaim.DoesNotExist:
        if always_two_reads:
            user_get(user_id=_NOBODY)
        return None
    return user_get(user_id=claim.user_id)


def _live(session: Session | None, now: datetime) -> Session | None:
    return session if session is not None and session.expires > now else None


def _first(sessions: dict[str, Session], ids: Sequence[str]) -> Session | None:
    return next((sessions[i] for i in ids if i in sessions), None)


def session_get(*, ids: Sequence[str]) -> Session | None:
    """Return the live session stored under the first of ``ids`` found, or None.

    ``ids`` are the ids one key may be stored under (``session_keys.stored_ids``):
    one ``GetItem``, or one ``BatchGetItem`` while ``SECRET_KEY`` has fallbacks.
    Expired sessions count as gone.
    """
    if len(ids) == 1:
        try:
            session = Session.get(ids[0], consistent_read=True)
        except Session.DoesNotExist:
            return None
        return _live(session, timezone.now())
    found = {s.id: s for s in Session.batch_get(ids, consistent_read=True)}
    return _live(_first(found, ids), timezone.now())


def session_and_user_get(*, ids: Sequence[str], user_id: str) -> tuple[Session | None, User | None]:
    """Read a session (under any of ``ids``) and its user in one BatchGetItem: the one read."""
    session, user, _entries = _session_user_and_list_get(ids=ids, user_id=user_id, with_list=False)
    return session, user


def session_user_and_list_get(
    *, ids: Sequence[str], user_id: str
) -> tuple[Session | None, User | None, list[SessionEntry]]:
    """Read a session, its user and the user's session list in one BatchGetItem.

    For the pages that show the list (the sessions page): still the one read.
    The list's entries come as stored, expired ones too (:func:`session_entries_live`).
    """
    return _session_user_and_list_get(ids=ids, user_id=user_id, with_list=True)


def _session_user_and_list_get(
    *, ids: Sequence[str], user_id: str, with_list: bool
) -> tuple[Session | None, User | None, list[SessionEntry]]:
    client = connection().client
    list_key = session_list_key(user_id)
    keys = [{"key": {"S": i}} for i in ids]
    if with_list:
        keys.append({"key": {"S": list_key}})
    request = {
        Session.Meta.table_name: {"Keys": keys, "ConsistentRead": True},
        User.Meta.table_name: {"Keys": [{"id": {"S": user_id}}], "ConsistentRead": True},
    }
    sessions: dict[str, Session] = {}
    user = None
    entries: list[SessionEntry] = []
    response = client.batch_get_item(RequestItems=request)
    for table, items in response.get("Responses", {}).items():
        for item in items:
            if table == User.Meta.table_name:
                user = User.from_raw_data(item)
            elif item["key"]["S"] == list_key:
                entries = session_entries_decode(item)
            else:
                found = Session.from_raw_data(item)
                sessions[found.id] = found
    session = _first(sessions, ids)
    # DynamoDB may leave keys unprocessed under load; read those one by one.
    unprocessed = response.get("UnprocessedKeys", {})
    if Session.Meta.table_name in unprocessed:
        session = session_get(ids=ids)
        if with_list:
            entries = session_entries_get(user_id=user_id)
    if User.Meta.table_name in unprocessed:
        user = user_get(user_id=user_id)
    return _live(session, timezone.now()), user, entries


def session_entries_get(*, user_id: str) -> list[SessionEntry]:
    """Read the user's session list (one consistent GetItem); expired entries too."""
    response = connection().client.get_item(
        TableName=Session.Meta.table_name,
        Key={"key": {"S": session_list_key(user_id)}},
        ConsistentRead=True,
    )
    return session_entries_decode(response.get("Item", {}))


def session_entries_live(entries: Iterable[SessionEntry]) -> list[SessionEntry]:
    """Keep the entries of sessions that have not expired (the list is pruned only on writes)."""
    now = timezone.now()
    return [entry for entry in entries if entry.expires > now]


def session_list_for_user(*, user_id: str) -> list[Session]:
    """Return the user's live sessions, most recently seen first (GSI ``by-user``)."""
    now = timezone.now()
    sessions = [s for s in Session.by_user.query(user_id) if s.expires > now]
    return sorted(sessions, key=lambda s: s.last_seen, reverse=True)


@dataclass(frozen=True)
class SessionRow:
    """One session as the sessions page and the admin show it."""

    public_id: str
    device: str
    ip: str | None
    created: datetime
    last_seen: datetime
    is_current: bool


def session_rows_for_user(*, user_id: str, current_key: str | None = None) -> list[SessionRow]:
    """Describe the user's live sessions from the ``by-user`` index (the admin's view).

    The one of ``current_key`` first, then by last seen.
    """
    rows = (
        (
            SessionRow(
                public_id=session.public_id,
                device=describe_device(session.user_agent),
                ip=session.ip,
                created=session.created,
                last_seen=session.last_seen,
                is_current=False,
            ),
            session.id,
        )
        for session in session_list_for_user(user_id=user_id)
    )
    return _rows(rows, current_key)


def session_rows_from_entries(
    *, entries: Iterable[SessionEntry], current_key: str | None
) -> list[SessionRow]:
    """Describe the live sessions of a session list (the sessions page: no read of its own).

    The one of ``current_key`` first, then by last seen.
    """
    live = sorted(session_entries_live(entries), key=lambda e: e.last_seen, reverse=True)
    return _rows(
        (
            (
                SessionRow(
                    public_id=entry.public_id,
                    device=entry.device,
                    ip=entry.ip,
                    created=entry.created,
                    last_seen=entry.last_seen,
                    is_current=False,
                ),
                entry.stored_id,
            )
            for entry in live
        ),
        current_key,
    )


def _rows(rows: Iterable[tuple[SessionRow, str]], current_key: str | None) -> list[SessionRow]:
    current_ids = set(session_keys.stored_ids(current_key)) if current_key else set()
    marked = [replace(row, is_current=stored in current_ids) for row, stored in rows]
    # A stable sort keeps "most recently seen first" among the others.
    return sorted(marked, key=lambda row: not row.is_current)


def user_find(*, identifier: str) -> User | None:
    """Return the user named by an id (32 hex characters) or an email address, or None."""
    identifier = identifier.strip()
    if is_user_id(identifier):
        return user_get(user_id=identifier)
    return user_get_by_email(email=identifier)


# What a cursor not made by user_list or user_page raises (callers catch it from here).
InvalidCursorError = cursors.InvalidCursorError


@dataclass(frozen=True)
class UserPage:
    """One page of users and the cursor of the next one (None: this was the last)."""

    users: list[User]
    cursor: str | None


# Items DynamoDB reads per Scan call: bounds memory whatever the table's size.
USER_SCAN_PAGE_SIZE = 100


# The users table's pages, in the admin and on the command line: one cursor format.
_USERS_SCOPE = "users:scan"


def _start_key(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    return {"id": {"S": decode_cursor(cursor, scope=_USERS_SCOPE, fields={"id": is_user_id})["id"]}}


def _cursor(key: dict[str, Any] | None) -> str | None:
    return encode_cursor({"id": key["id"]["S"]}, scope=_USERS_SCOPE) if key else None


def user_list(
    *,
    limit: int,
    cursor: str | None = None,
    staff_only: bool = False,
    inactive_only: bool = False,
) -> UserPage:
    """Return up to ``limit`` users from ``cursor`` on, in the table's (unsorted) order.

    A ``Scan`` reading ``USER_SCAN_PAGE_SIZE`` items per call (the filters are
    applied by DynamoDB after reading, so each call costs a full page): for
    operators' commands, never a request path. The cursor is opaque (DynamoDB's
    ``LastEvaluatedKey``); a bad one raises :class:`InvalidCursorError`.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    condition = None
    if staff_only:
        condition &= User.is_staff == True  # noqa: E712
    if inactive_only:
        condition &= User.is_active == False  # noqa: E712
    results = User.scan(
        condition,
        limit=limit,
        last_evaluated_key=_start_key(cursor),
        page_size=USER_SCAN_PAGE_SIZE,
    )
    users = list(results)
    return UserPage(users=users, cursor=_cursor(results.last_evaluated_key))


@dataclass(frozen=True)
class UserFilters:
    """What the admin's users list keeps: None or "" means "any"."""

    is_staff: bool | None = None
    is_active: bool | None = None
    email_verified: bool | None = None
    email_prefix: str = ""
    name_contains: str = ""

    def condition(self) -> Condition | None:
        """Return the Scan's FilterExpression (None when nothing is filtered)."""
        parts: list[Condition] = [
            getattr(User, name) == value
            for name in ("is_staff", "is_active", "email_verified")
            if (value := getattr(self, name)) is not None
        ]
        if self.email_prefix:
            parts.append(User.email.startswith(self.email_prefix))
        if self.name_contains:
            parts.append(User.display_name.contains(self.name_contains))
        condition = None
        for part in parts:
            condition = part if condition is None else condition & part
        return condition


def user_page(*, cursor: str | None, limit: int, filters: UserFilters) -> UserPage:
    """Return one page of users: one ``Scan`` call of ``limit`` items, then the filter.

    DynamoDB applies the filter after reading ``limit`` items, so a filtered page
    may hold fewer users than ``limit``, or none, while ``cursor`` says more
    of the table is left. Users come in the table's order (by hash of the id).
    Raises ``InvalidCursorError`` for a cursor this site did not make.
    """
    results = User.scan(filters.condition(), page_size=limit, last_evaluated_key=_start_key(cursor))
    page = next(results.page_iter, {})
    users = [User.from_raw_data(item) for item in page.get("Items", [])]
    last = results.page_iter.last_evaluated_key
    return UserPage(users=users, cursor=_cursor(last))


def second_factor_get(*, user_id: str) -> SecondFactor | None:
    """Return the user's second factor (confirmed or still being set up), or None."""
    try:
        return SecondFactor.get(user_id, consistent_read=True)
    except SecondFactor.DoesNotExist:
        return None


# --- Avatars (pictures.avatar; docs/jobs.md, "Avatar") ------------------------------


_S3_BACKENDS = ("storages.backends.s3.S3Storage", "storages.backends.s3boto3.S3Boto3Storage")


def avatars_available() -> bool:
    """Return True if pictures can be uploaded here: uploads go to the media bucket.

    The avatar worker (Lambda) reads the original from ``NEBULA_MEDIA_BUCKET``; where
    the default storage is something else (local files), it could never see it. Read
    from the settings, not from ``default_storage``: making the S3 storage imports
    boto3 and s3transfer, about 8 MiB a web worker would carry for every profile page.
    """
    bucket = settings.NEBULA_MEDIA_BUCKET
    storage = settings.STORAGES.get("default", {})
    return (
        bool(bucket)
        and storage.get("BACKEND") in _S3_BACKENDS
        and storage.get("OPTIONS", {}).get("bucket_name") == bucket
    )


def avatar_image(*, user: User, version: str, size: int) -> bytes | None:
    """Return one size of the user's current avatar as WebP bytes, or None.

    None for a version that is not the user's current one, a size the site does not
    make, or an object storage cannot give now (logged). No DynamoDB call.
    """
    if not user.avatar or user.avatar != version or size not in avatars.SIZES:
        return None
    key = avatars.size_key(owner_id=user.id, version=version, size=size)
    try:
        with default_storage.open(key) as stored:
            return stored.read()
    except FileNotFoundError:
        logger.warning("avatar %s is missing from media storage", key)
    except (OSError, BotoCoreError, ClientError):
        logger.exception("avatar %s could not be read", key)
    return None
