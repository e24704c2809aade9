"""Writes of accounts data. Each one keeps the tables consistent on its own.

Errors a person can act on are raised as the exceptions below; views turn them
into form errors. DynamoDB outages propagate and become the 503 page.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.dispatch import Signal
from django.utils import timezone
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from nebula.dynamo.models import connection

from .models import EmailClaim, Session, User
from .selectors import normalize_email, session_list_for_user

logger = logging.getLogger(__name__)

# Other apps connect here to remove what a user owns; each receiver returns a
# short description of what it removed ("3 jobs"), or None.
user_deleted = Signal()

LAST_SEEN_INTERVAL = timedelta(minutes=5)


class EmailTakenError(Exception):
    """Another account already uses this address."""


class ConcurrentEditError(Exception):
    """The item changed since it was read; the caller should reload and retry."""


def _cancelled_by(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in (exc.cancellation_reasons or [])]


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def user_create(
    *,
    email: str,
    password: str,
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
) -> User:
    """Create a user and claim the address in one transaction: both or neither."""
    user = User(
        uuid.uuid4().hex,
        email=email.strip(),
        display_name=display_name.strip(),
        is_staff=is_staff,
        is_superuser=is_superuser,
        email_verified=email_verified,
        date_joined=timezone.now(),
    )
    user.set_password(password)
    claim = EmailClaim(normalize_email(email), user_id=user.id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(user, condition=User.id.does_not_exist())
            transaction.save(claim, condition=EmailClaim.email.does_not_exist())
    except TransactWriteError as exc:
        # TransactItems are [put user, put claim].
        if _cancelled_by(exc)[1:2] == ["ConditionalCheckFailed"]:
            raise EmailTakenError(email) from exc
        raise
    return user


def user_record_login(*, user: User) -> None:
    """Stamp the last login time (also what makes old password-reset links stale)."""
    user.update(actions=[User.last_login.set(timezone.now())], add_version_condition=False)


def user_update_profile(*, user: User, expected_version: int, display_name: str) -> User:
    """Change the display name, unless someone changed the user since ``expected_version``."""
    # PynamoDB adds "version = expected" to the condition and bumps the version.
    user.version = expected_version
    try:
        user.update(actions=[User.display_name.set(display_name.strip())])
    except UpdateError as exc:
        if _condition_failed(exc):
            raise ConcurrentEditError from exc
        raise
    return user


def user_set_password(*, user: User, password: str) -> User:
    """Set a new password: every session not refreshed with the new hash ends."""
    user.set_password(password)
    user.update(actions=[User.password.set(user.password)], add_version_condition=False)
    return user


def user_mark_email_verified(*, user: User, email: str) -> bool:
    """Mark ``email`` verified if it is still the user's address; return whether it was."""
    try:
        user.update(
            actions=[User.email_verified.set(True)],
            condition=(User.email == email) & (User.email_verified == False),  # noqa: E712
            add_version_condition=False,
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def user_change_email(*, user: User, old_email: str, new_email: str) -> User:
    """Move the user to a new, already-verified address: claims and user in one transaction."""
    old_claim = EmailClaim(normalize_email(old_email))
    new_claim = EmailClaim(normalize_email(new_email), user_id=user.id)
    moves_claim = old_claim.email != new_claim.email
    try:
        with TransactWrite(connection=connection()) as transaction:
            # PynamoDB also checks and bumps the user's version.
            transaction.update(
                user,
                actions=[User.email.set(new_email.strip()), User.email_verified.set(True)],
                condition=User.email == old_email,
            )
            if moves_claim:
                transaction.delete(old_claim, condition=EmailClaim.user_id == user.id)
                transaction.save(new_claim, condition=EmailClaim.email.does_not_exist())
    except TransactWriteError as exc:
        # TransactItems are [delete old claim, put new claim, update user].
        reasons = _cancelled_by(exc)
        if moves_claim and reasons[1:2] == ["ConditionalCheckFailed"]:
            raise EmailTakenError(new_email) from exc
        if "ConditionalCheckFailed" in reasons:
            raise ConcurrentEditError from exc
        raise
    user.refresh(consistent_read=True)
    return user


def user_set_active(*, user: User, is_active: bool) -> None:
    """Activate or deactivate; a deactivated user's sessions end at their next request."""
    user.update(actions=[User.is_active.set(is_active)], add_version_condition=False)
    if not is_active:
        session_end_all(user_id=user.id)


def user_delete(*, user: User) -> list[str]:
    """Delete the user, the address claim and every session; say what was removed."""
    sessions = session_list_for_user(user_id=user.id)
    with TransactWrite(connection=connection()) as transaction:
        transaction.delete(User(user.id), add_version_condition=False)
        transaction.delete(
            EmailClaim(normalize_email(user.email)), condition=EmailClaim.user_id == user.id
        )
    removed = ["your account and profile", f"your email address {user.email}"]
    ended = session_end_all(user_id=user.id, sessions=sessions)
    removed.append(f"{ended} session{'s' if ended != 1 else ''}")
    for _receiver, description in user_deleted.send(sender=User, user_id=user.id):
        if description:
            removed.append(description)
    return removed


def session_end(*, user_id: str, public_id: str) -> bool:
    """End one of the user's sessions, named by its public id; False if there was none."""
    for session in session_list_for_user(user_id=user_id):
        if session.public_id == public_id:
            _delete_session(session.key)
            return True
    return False


def session_end_all(
    *, user_id: str, except_key: str | None = None, sessions: Iterable[Session] | None = None
) -> int:
    """End every session of the user (but ``except_key``); return how many ended."""
    if sessions is None:
        sessions = session_list_for_user(user_id=user_id)
    ended = 0
    for session in sessions:
        if session.key != except_key:
            _delete_session(session.key)
            ended += 1
    return ended


def _delete_session(key: str) -> None:
    try:
        Session(key).delete()
    except DeleteError:
        logger.warning("could not delete a session", exc_info=True)
        raise


def session_save(
    *,
    key: str,
    data: str,
    expires: datetime,
    user_id: str | None,
    created: datetime,
    ip: str | None,
    user_agent: str | None,
    must_create: bool,
) -> bool:
    """Write a session; False if ``must_create`` and it exists, or not and it is gone."""
    session = Session(
        key,
        data=data,
        expires=expires,
        user_id=user_id,
        created=created,
        last_seen=timezone.now(),
        ip=ip,
        user_agent=user_agent,
    )
    condition = Session.key.does_not_exist() if must_create else Session.key.exists()
    try:
        session.save(condition=condition)
    except PutError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def session_touch(*, key: str, ip: str | None) -> None:
    """Stamp "last seen" (at most every five minutes per session, by the middleware)."""
    try:
        Session(key).update(
            actions=[Session.last_seen.set(timezone.now()), Session.ip.set(ip)],
            condition=Session.key.exists(),
        )
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise


def session_delete(*, key: str) -> None:
    """Delete a session by key (logging out)."""
    Session(key).delete()


def session_delete_expired() -> int:
    """Delete expired sessions (a Scan: for ``clearsessions``, never a request)."""
    now = timezone.now()
    count = 0
    with Session.batch_write() as batch:
        for session in Session.scan(Session.expires <= now):
            batch.delete(session)
            count += 1
    return count
