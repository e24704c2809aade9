"""Writes of accounts data. Each one keeps the tables consistent on its own.

Errors a person can act on are raised as the exceptions below; views turn them
into form errors. DynamoDB outages propagate and become the 503 page.
"""

import random
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.dispatch import Signal
from django.utils import timezone
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from datalayer.models import connection
from nebula.email_addresses import canonical_email
from nebula.validators import validate_one_line_text

from . import session_keys
from .models import EmailClaim, Session, User
from .ratelimits import login_failures_clear
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


class AdminActionRefusedError(PermissionDenied):
    """The acting admin may not do this to this account; the message says why."""


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
    """Create a user and claim the address in one transaction: both or neither.

    The address is stored canonical (``nebula.email_addresses``); one that
    cannot be raises ``InvalidEmailError``, a display name with control
    characters ``ValidationError``: forms refuse both first.
    """
    email = canonical_email(email)
    validate_one_line_text(display_name)
    user = User(
        uuid.uuid4().hex,
        email=email,
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
    validate_one_line_text(display_name)
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


def user_reset_password(*, user: User, password: str, device: str | None = None) -> User:
    """Complete a password reset: set the password, end every session, forget failed logins.

    ``device``: the trusted device the reset was made from (``accounts.devices``),
    whose own failure budget is cleared too, so that browser can sign in at once.
    """
    user_set_password(user=user, password=password)
    session_end_all(user_id=user.id)
    login_failures_clear(email=user.email, device=device)
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


def _email_changes_are(count: int) -> Condition:
    # Users created before the counter existed have no attribute: that is 0.
    condition = User.email_changes == count
    return condition | User.email_changes.does_not_exist() if count == 0 else condition


def user_mark_email_verified(*, user: User, email: str, email_changes: int) -> bool:
    """Mark ``email`` verified if it is still the user's address; return whether it was.

    ``email_changes`` is the count the link was made at: after any change of
    address (even back to this one) the link no longer works.
    """
    try:
        User._get_connection().update_item(
            user.id,
            actions=[User.email_verified.set(True)],
            condition=User.id.exists()
            & (User.email == email)
            & (User.email_verified == False)  # noqa: E712
            & _email_changes_are(email_changes),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def user_change_email(*, user: User, old_email: str, new_email: str, email_changes: int) -> User:
    """Move the user to a new, already-verified address: claims and user in one transaction.

    Only from ``old_email`` and ``email_changes`` (what the link was made for),
    which it bumps: each link works once. Raises ``EmailTakenError`` if another
    account holds the new address, ``ConcurrentEditError`` if the user changed.
    """
    new_email = canonical_email(new_email)
    old_claim = EmailClaim(normalize_email(old_email))
    new_claim = EmailClaim(normalize_email(new_email), user_id=user.id)
    moves_claim = old_claim.email != new_claim.email

    def write(transaction: TransactWrite) -> None:
        # PynamoDB also checks and bumps the user's version.
        transaction.update(
            user,
            actions=[
                User.email.set(new_email),
                User.email_verified.set(True),
                User.email_changes.add(1),
            ],
            condition=(User.email == old_email) & _email_changes_are(email_changes),
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


def user_admin_refusal(*, actor: User, user: User) -> str | None:
    """Return why ``actor`` may not change ``user`` or end their sessions, or None if they may.

    Only a superuser may act on a staff or superuser account: a staff member
    could otherwise lock out the people who oversee them.
    """
    if actor.is_superuser:
        return None
    if user.is_superuser or user.is_staff:
        kind = "a superuser" if user.is_superuser else "a staff"
        return (
            f"{user.email} is {kind} account: only a superuser may change it or end its sessions."
        )
    return None


def _refuse_unless_allowed(*, actor: User, user: User) -> None:
    reason = user_admin_refusal(actor=actor, user=user)
    if reason:
        raise AdminActionRefusedError(reason)


def user_admin_update(
    *, actor: User, user: User, expected_version: int, changes: dict[str, object]
) -> User:
    """Apply ``actor``'s changes, unless the user changed since ``expected_version``.

    Raises ``AdminActionRefusedError`` when ``actor`` may not make them (see
    :func:`user_admin_refusal`; only superusers grant or remove staff and
    superuser status). Deactivating ends every session of the user.
    """
    _refuse_unless_allowed(actor=actor, user=user)
    allowed = {"display_name", "is_active", "email_verified", "is_staff", "is_superuser"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    if not changes:
        return user
    if "display_name" in changes:
        validate_one_line_text(changes["display_name"])
    user.version = expected_version
    condition = User.id.exists()
    if not actor.is_superuser:
        if {"is_staff", "is_superuser"} & set(changes):
            raise AdminActionRefusedError(
                "Only a superuser may grant or remove staff or superuser status."
            )
        # Checked on the stored item too, not only on the copy the form was made from.
        condition &= (User.is_staff == False) & (User.is_superuser == False)  # noqa: E712
    try:
        user.update(
            actions=[getattr(User, name).set(value) for name, value in changes.items()],
            condition=condition,
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            raise ConcurrentEditError from exc
        raise
    if changes.get("is_active") is False:
        session_end_all(user_id=user.id)
    return user


def user_admin_end_sessions(*, actor: User, user: User) -> int:
    """End every session of ``user`` for ``actor``; return how many ended.

    Raises ``AdminActionRefusedError`` when ``actor`` may not (:func:`user_admin_refusal`).
    """
    _refuse_unless_allowed(actor=actor, user=user)
    return session_end_all(user_id=user.id)


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
            Session(session.id).delete()
            return True
    return False


def session_end_all(
    *,
    user_id: str,
    except_keys: Iterable[str | None] = (),
    sessions: Iterable[Session] | None = None,
) -> int:
    """End every session of the user but those of ``except_keys``; return how many ended."""
    if sessions is None:
        sessions = session_list_for_user(user_id=user_id)
    kept = {stored for key in except_keys if key for stored in session_keys.stored_ids(key)}
    ids = {session.id for session in sessions} - kept
    # BatchWriteItem: 25 deletes per call, however many sessions there are.
    with Session.batch_write() as batch:
        for stored in ids:
            batch.delete(Session(stored))
    return len(ids)


def session_save(
    *,
    stored_id: str,
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
        stored_id,
        data=data,
        expires=expires,
        user_id=user_id,
        created=created,
        last_seen=timezone.now(),
        ip=ip,
        user_agent=user_agent,
    )
    condition = Session.id.does_not_exist() if must_create else Session.id.exists()
    try:
        session.save(condition=condition)
    except PutError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def session_touch(*, stored_id: str, ip: str | None) -> None:
    """Stamp "last seen" (at most every five minutes per session, by the middleware)."""
    try:
        Session(stored_id).update(
            actions=[Session.last_seen.set(timezone.now()), Session.ip.set(ip)],
            condition=Session.id.exists(),
        )
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise


def session_delete(*, stored_ids: Collection[str]) -> None:
    """Delete a session stored under any of ``stored_ids`` (logging out)."""
    if len(stored_ids) == 1:
        Session(next(iter(stored_ids))).delete()
        return
    with Session.batch_write() as batch:
        for stored in stored_ids:
            batch.delete(Session(stored))


def session_delete_expired() -> int:
    """Delete expired sessions (a Scan: for ``clearsessions``, never a request)."""
    now = timezone.now()
    count = 0
    with Session.batch_write() as batch:
        for session in Session.scan(Session.expires <= now):
            batch.delete(session)
            count += 1
    return count
