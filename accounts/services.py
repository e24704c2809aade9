"""Writes of accounts data. Each one keeps the tables consistent on its own.

Errors a person can act on are raised as the exceptions below; views turn them
into form errors. DynamoDB outages propagate and become the 503 page.
"""

import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.dispatch import Signal
from django.utils import timezone
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from nebula.dynamo.models import connection

from .models import EmailClaim, Session, User
from .selectors import normalize_email, session_list_for_user

# Other apps connect here to remove what a user owns; each receiver returns a
# short description of what it removed ("3 jobs"), or None.
user_deleted = Signal()

LAST_SEEN_INTERVAL = timedelta(minutes=5)


class EmailTakenError(Exception):
    """Another account already uses this address."""


class ConcurrentEditError(Exception):
    """The item changed since it was read; the caller should reload and retry."""


class UserGoneError(Exception):
    """The user was deleted meanwhile."""


# A transaction that meets another one on the same item is cancelled with
# "TransactionConflict"; it is worth a couple of quick retries.
_TRANSACTION_ATTEMPTS = 3


def _cancelled_by(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in (exc.cancellation_reasons or [])]


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _transact(write: Callable[[TransactWrite], None]) -> None:
    """Run one write transaction, retrying it briefly if it met a concurrent one."""
    for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
        try:
            with TransactWrite(connection=connection()) as transaction:
                write(transaction)
        except TransactWriteError as exc:
            reasons = _cancelled_by(exc)
            if "TransactionConflict" not in reasons or "ConditionalCheckFailed" in reasons:
                raise
            if attempt == _TRANSACTION_ATTEMPTS:
                raise ConcurrentEditError from exc
            time.sleep(random.uniform(0.02, 0.1) * attempt)  # noqa: S311 - jitter, not secrets
        else:
            return


def _update_user(user_id: str, actions: list[Action]) -> None:
    """Update fields of an existing user, leaving the version alone.

    The version guards what a person edits in a form (the profile); a login
    stamp or a password change elsewhere must not make that form stale. The
    condition keeps an update from re-creating a user deleted meanwhile.
    """
    try:
        User._get_connection().update_item(user_id, actions=actions, condition=User.id.exists())
    except UpdateError as exc:
        if _condition_failed(exc):
            raise UserGoneError(user_id) from exc
        raise


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

    def write(transaction: TransactWrite) -> None:
        transaction.save(user, condition=User.id.does_not_exist())
        transaction.save(claim, condition=EmailClaim.email.does_not_exist())

    try:
        _transact(write)
    except TransactWriteError as exc:
        # TransactItems are [put user, put claim].
        if _cancelled_by(exc)[1:2] == ["ConditionalCheckFailed"]:
            raise EmailTakenError(email) from exc
        raise
    return user


def user_record_login(*, user: User) -> None:
    """Stamp the last login time (also what makes old password-reset links stale)."""
    user.last_login = timezone.now()
    _update_user(user.id, [User.last_login.set(user.last_login)])


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
    _update_user(user.id, [User.password.set(user.password)])
    return user


def user_change_password(
    *, user: User, password: str, keep_session_keys: Iterable[str | None] = ()
) -> int:
    """Set a new password, then end the user's other sessions; return how many ended.

    The sessions in ``keep_session_keys`` (the one the person is using) stay; the
    caller refreshes their auth hash (``update_session_auth_hash``), or they end
    at their next request like every session still holding the old hash. Raises
    UserGoneError if the user was deleted meanwhile (nothing is changed then).
    """
    user_set_password(user=user, password=password)
    return session_end_all(user_id=user.id, except_keys=keep_session_keys)


def user_rehash_password(*, user: User, password: str) -> None:
    """Store the password again with today's hasher settings (called after a good login)."""
    user.set_password(password)
    _update_user(user.id, [User.password.set(user.password)])


def user_mark_email_verified(*, user: User, email: str) -> bool:
    """Mark ``email`` verified if it is still the user's address; return whether it was."""
    try:
        User._get_connection().update_item(
            user.id,
            actions=[User.email_verified.set(True)],
            condition=User.id.exists() & (User.email == email) & (User.email_verified == False),  # noqa: E712
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

    def write(transaction: TransactWrite) -> None:
        # PynamoDB also checks and bumps the user's version.
        transaction.update(
            user,
            actions=[User.email.set(new_email.strip()), User.email_verified.set(True)],
            condition=User.email == old_email,
        )
        if moves_claim:
            transaction.delete(old_claim, condition=EmailClaim.user_id == user.id)
            transaction.save(new_claim, condition=EmailClaim.email.does_not_exist())

    try:
        _transact(write)
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


def user_admin_update(*, user: User, expected_version: int, changes: dict[str, object]) -> User:
    """Apply an admin's changes, unless the user changed since ``expected_version``.

    Deactivating ends every session of the user.
    """
    allowed = {"display_name", "is_active", "email_verified", "is_staff", "is_superuser"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    if not changes:
        return user
    user.version = expected_version
    try:
        user.update(
            actions=[getattr(User, name).set(value) for name, value in changes.items()],
            condition=User.id.exists(),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            raise ConcurrentEditError from exc
        raise
    if changes.get("is_active") is False:
        session_end_all(user_id=user.id)
    return user


def user_delete(*, user: User) -> list[str]:
    """Delete the user, the address claim and every session; say what was removed."""
    sessions = session_list_for_user(user_id=user.id)

    def write(transaction: TransactWrite) -> None:
        transaction.delete(User(user.id), add_version_condition=False)
        transaction.delete(
            EmailClaim(normalize_email(user.email)), condition=EmailClaim.user_id == user.id
        )

    _transact(write)
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
            Session(session.key).delete()
            return True
    return False


def session_end_all(
    *,
    user_id: str,
    except_keys: Iterable[str | None] = (),
    sessions: Iterable[Session] | None = None,
) -> int:
    """End every session of the user but ``except_keys``; return how many ended."""
    if sessions is None:
        sessions = session_list_for_user(user_id=user_id)
    keys = {session.key for session in sessions} - set(except_keys)
    # BatchWriteItem: 25 deletes per call, however many sessions there are.
    with Session.batch_write() as batch:
        for key in keys:
            batch.delete(Session(key))
    return len(keys)


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
