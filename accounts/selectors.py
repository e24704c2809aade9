"""Reads of accounts data. Each access pattern has one function (docs/data-model.md)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from datalayer.models import connection
from nebula.email_addresses import InvalidEmailError, email_key

from . import session_keys
from .models import EmailClaim, Session, User
from .useragent import describe_device


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
    client = connection().client
    tables = {Session.Meta.table_name: Session, User.Meta.table_name: User}
    request = {
        Session.Meta.table_name: {
            "Keys": [{"key": {"S": i}} for i in ids],
            "ConsistentRead": True,
        },
        User.Meta.table_name: {"Keys": [{"id": {"S": user_id}}], "ConsistentRead": True},
    }
    sessions: dict[str, Session] = {}
    user = None
    response = client.batch_get_item(RequestItems=request)
    for table, items in response.get("Responses", {}).items():
        for item in items:
            found = tables[table].from_raw_data(item)
            if isinstance(found, Session):
                sessions[found.id] = found
            else:
                user = found
    session = _first(sessions, ids)
    # DynamoDB may leave keys unprocessed under load; read those one by one.
    unprocessed = response.get("UnprocessedKeys", {})
    if Session.Meta.table_name in unprocessed:
        session = session_get(ids=ids)
    if User.Meta.table_name in unprocessed:
        user = user_get(user_id=user_id)
    return _live(session, timezone.now()), user


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
    """Describe the user's live sessions: the one of ``current_key`` first, then by last seen."""
    current_ids = set(session_keys.stored_ids(current_key)) if current_key else set()
    rows = [
        SessionRow(
            public_id=session.public_id,
            device=describe_device(session.user_agent),
            ip=session.ip,
            created=session.created,
            last_seen=session.last_seen,
            is_current=session.id in current_ids,
        )
        for session in session_list_for_user(user_id=user_id)
    ]
    # A stable sort keeps "most recently seen first" among the others.
    return sorted(rows, key=lambda row: not row.is_current)
