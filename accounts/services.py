"""Writes of accounts data. Each one keeps the tables consistent on its own.

Errors a person can act on are raised as the exceptions below; views turn them
into form errors. DynamoDB outages propagate and become the 503 page.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.dispatch import Signal
from django.utils import timezone
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from datalayer.counters import SESSIONS, SIGNUPS, counter_add_daily, counter_add_hourly
from datalayer.jobs import Job, JobKind, job_get, job_id_for
from datalayer.models import connection
from jobs import services as job_services
from nebula.audit import SOURCE_COMMAND, AuditEntry, audit_entry, audit_record
from nebula.email_addresses import canonical_email
from nebula.validators import validate_one_line_text
from pictures import avatar as avatars
from pictures.check import PictureInfo

from . import otp, session_keys
from .models import (
    SESSION_LIST_CAP,
    SESSION_LIST_PREFIX,
    EmailClaim,
    SecondFactor,
    Session,
    SessionEntry,
    User,
    is_session_list_key,
    session_entries_decode,
    session_entry_name,
    session_list_key,
)
from .ratelimits import login_failures_clear
from .selectors import (
    normalize_email,
    second_factor_get,
    session_entries_get,
    session_entries_live,
    session_list_for_user,
)
from .useragent import describe_device

logger = logging.getLogger(__name__)

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


class SecondFactorStateError(Exception):
    """The second factor is not in the state this step needs (enrolled already, or not yet)."""


# A transaction that meets another one on the same item is cancelled with
# "TransactionConflict"; it is worth a couple of quick retries.
_TRANSACTION_ATTEMPTS = 3


def _cancelled_by(exc: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in (exc.cancellation_reasons or [])]


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


_T = TypeVar("_T")


class _ConflictedError(Exception):
    """A transaction cancelled only because it met a concurrent one (its cause: the error)."""


def _with_conflict_retries(once: Callable[[], _T], *, attempts: int = _TRANSACTION_ATTEMPTS) -> _T:
    """Run ``once``, again after a short pause while it raises :class:`_ConflictedError`."""
    for attempt in range(1, attempts + 1):
        try:
            return once()
        except _ConflictedError as conflict:
            if attempt == attempts:
                raise ConcurrentEditError from conflict.__cause__
            time.sleep(random.uniform(0.02, 0.1) * attempt)  # noqa: S311 - jitter, not secrets
    raise AssertionError("unreachable")  # pragma: no cover


def _transact(write: Callable[[TransactWrite], None]) -> None:
    """Run one write transaction, retrying it briefly if it met a concurrent one."""

    def once() -> None:
        try:
            with TransactWrite(connection=connection()) as transaction:
                write(transaction)
        except TransactWriteError as exc:
            reasons = _cancelled_by(exc)
            if "TransactionConflict" in reasons and "ConditionalCheckFailed" not in reasons:
                raise _ConflictedError from exc
            raise

    _with_conflict_retries(once)


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
    password: str | None,
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
    is_active: bool = True,
) -> User:
    """Create a user and claim the address in one transaction: both or neither.

    The address is stored canonical (``nebula.email_addresses``); one that
    cannot be raises ``InvalidEmailError``, a display name with control
    characters ``ValidationError``: forms refuse both first. A ``password`` of
    None makes an unusable one: the person sets theirs with a password reset.
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
        is_active=is_active,
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
    # For the admin's dashboard; best effort, never fails the sign-up.
    counter_add_daily(SIGNUPS)
    return user


def user_record_login(*, user: User) -> None:
    """Stamp the last login time (also what makes old password-reset links stale).

    Also counts a signed-in session started, for the dashboard (best effort).
    """
    user.last_login = timezone.now()
    _update_user(user.id, [User.last_login.set(user.last_login)])
    counter_add_hourly(SESSIONS)


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


def _admin_entry(*, actor: User, action: str, user: User, before: dict, after: dict) -> AuditEntry:
    """Build the audit entry of ``actor``'s action on ``user`` (names kept: both may go)."""
    return audit_entry(
        actor_id=actor.id,
        actor_label=actor.email,
        action=action,
        entity_type="user",
        entity_id=user.id,
        entity_label=user.email,
        before=before,
        after=after,
    )


def _admin_guard(actor: User) -> Condition:
    """Return the condition an admin write checks on the stored user.

    The user must exist; for an actor who is not a superuser it must also not be
    staff or superuser on the stored item, not only on the copy a form was made from.
    """
    condition = User.id.exists()
    if not actor.is_superuser:
        condition &= (User.is_staff == False) & (User.is_superuser == False)  # noqa: E712
    return condition


def _admin_transact(write: Callable[[TransactWrite], None]) -> None:
    """Run an admin write and its audit entry in one transaction; both or neither."""
    try:
        _transact(write)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in _cancelled_by(exc):
            raise ConcurrentEditError from exc
        raise


def user_admin_update(
    *, actor: User, user: User, expected_version: int, changes: dict[str, object]
) -> User:
    """Apply ``actor``'s changes, unless the user changed since ``expected_version``.

    Raises ``AdminActionRefusedError`` when ``actor`` may not make them (see
    :func:`user_admin_refusal`; only superusers grant or remove staff and
    superuser status). The change and its audit entry ("user.change", the changed
    fields before and after) are one transaction. Deactivating ends every session.
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
    if not actor.is_superuser and {"is_staff", "is_superuser"} & set(changes):
        raise AdminActionRefusedError(
            "Only a superuser may grant or remove staff or superuser status."
        )
    # Exact: the write checks the version this copy was read at.
    entry = _admin_entry(
        actor=actor,
        action="user.change",
        user=user,
        before={name: getattr(user, name) for name in changes},
        after=dict(changes),
    )
    user.version = expected_version

    def write(transaction: TransactWrite) -> None:
        # PynamoDB adds "version = expected" to the condition and bumps the version.
        transaction.update(
            user,
            actions=[getattr(User, name).set(value) for name, value in changes.items()],
            condition=_admin_guard(actor),
        )
        transaction.save(entry, condition=AuditEntry.id.does_not_exist())

    _admin_transact(write)
    for name, value in changes.items():
        setattr(user, name, value)
    if changes.get("is_active") is False:
        session_end_all(user_id=user.id)
    return user


def user_admin_set_active(*, actor: User, user: User, active: bool) -> int:
    """Deactivate or reactivate ``user`` for ``actor``; return how many sessions ended.

    Deactivating ends every session at once. The flag and its audit entry
    ("user.deactivate" / "user.reactivate") are one transaction, conditional on
    the user being as read (its version). Nothing happens, and nothing is
    recorded, when the user already is as asked. An admin cannot deactivate
    their own account (they would lock themselves out mid-action).
    """
    _refuse_unless_allowed(actor=actor, user=user)
    if not active and actor.id == user.id:
        raise AdminActionRefusedError("You cannot deactivate your own account here.")
    if user.is_active == active:
        return 0
    entry = _admin_entry(
        actor=actor,
        action="user.reactivate" if active else "user.deactivate",
        user=user,
        before={"is_active": user.is_active},
        after={"is_active": active},
    )

    def write(transaction: TransactWrite) -> None:
        transaction.update(
            user, actions=[User.is_active.set(active)], condition=_admin_guard(actor)
        )
        transaction.save(entry, condition=AuditEntry.id.does_not_exist())

    _admin_transact(write)
    user.is_active = active
    return 0 if active else session_end_all(user_id=user.id)


def user_admin_end_sessions(*, actor: User, user: User) -> int:
    """End every session of ``user`` for ``actor``; return how many ended.

    Raises ``AdminActionRefusedError`` when ``actor`` may not (:func:`user_admin_refusal`).
    The audit entry ("user.end_sessions") is written right after the deletes, which
    take one transaction per 24 sessions (:func:`session_end_all`): it cannot share them.
    """
    _refuse_unless_allowed(actor=actor, user=user)
    ended = session_end_all(user_id=user.id)
    audit_record(
        actor_id=actor.id,
        actor_label=actor.email,
        action="user.end_sessions",
        entity_type="user",
        entity_id=user.id,
        entity_label=user.email,
        before={"sessions": ended},
        after={"sessions": 0},
    )
    return ended


def user_admin_send_password_reset(*, actor: User, user: User, send: Callable[[], None]) -> None:
    """Send ``user`` a password-reset link for ``actor`` (``send`` mails it), and audit it.

    Refused for a deactivated account (the link would not work) and, for an actor
    who is not a superuser, for staff accounts. The entry ("user.password_reset")
    is written once the mail is handed over; the password itself does not change.
    """
    _refuse_unless_allowed(actor=actor, user=user)
    if not user.is_active:
        raise AdminActionRefusedError(
            f"{user.email} is deactivated: reactivate it before sending a reset link."
        )
    send()
    audit_record(
        actor_id=actor.id,
        actor_label=actor.email,
        action="user.password_reset",
        entity_type="user",
        entity_id=user.id,
        entity_label=user.email,
        before={},
        after={"reset_link_sent_to": user.email},
    )


def user_admin_delete(*, actor: User, user: User) -> list[str]:
    """Delete ``user`` for ``actor`` as self-deletion does (:func:`user_delete`).

    The user, the address claim and the audit entry ("user.delete", what the
    account was) are one transaction, conditional on the stored user (an account
    made staff meanwhile is not deleted by a non-superuser); sessions and other
    apps' data follow. Admins delete their own account from their account page.
    """
    _refuse_unless_allowed(actor=actor, user=user)
    if actor.id == user.id:
        raise AdminActionRefusedError("Delete your own account from your account page.")
    fields = ("email", "display_name", "is_active", "email_verified", "is_staff", "is_superuser")
    entry = _admin_entry(
        actor=actor,
        action="user.delete",
        user=user,
        before={name: getattr(user, name) for name in fields},
        after={},
    )
    try:
        return user_delete(user=user, audit=entry, condition=_admin_guard(actor))
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in _cancelled_by(exc):
            raise ConcurrentEditError from exc
        raise


# The command-line services take the operator (``nebula.audit.operator_id()``,
# "operator:<login name>"), log what they did, and audit it with source "command".


def operator_audit(
    *, operator: str, action: str, user: User, before: dict, after: dict
) -> AuditEntry:
    """Record an operator's ``manage.py`` action on ``user`` in the audit log (``PutItem``)."""
    return audit_record(
        actor_id=operator,
        actor_label=operator,
        action=action,
        entity_type="user",
        entity_id=user.id,
        entity_label=user.email,
        before=before,
        after=after,
        source=SOURCE_COMMAND,
    )


@dataclass(frozen=True)
class ActiveChange:
    """What :func:`user_set_active` did."""

    changed: bool
    sessions_ended: int


def user_set_active(*, operator: str, user: User, active: bool) -> ActiveChange:
    """Activate or deactivate ``user`` for an operator; deactivating ends their sessions at once.

    An operator on the command line may act on any account (the admin's path,
    with its refusals, is :func:`user_admin_set_active`). Asking for the state
    the user is already in writes nothing (deactivating still ends any session
    left): safe to run twice. A change is audited ("user.deactivate" /
    "user.reactivate"; sessions ended by a repeated deactivation as
    "user.end_sessions") right after it. Raises ``UserGoneError`` if the user
    was deleted meanwhile.
    """
    changed = user.is_active != active
    if changed:
        # The version moves too: an admin form opened before this must not undo it.
        _update_user(user.id, [User.is_active.set(active), User.version.add(1)])
        user.is_active = active
        if user.version is not None:
            user.version += 1
    ended = 0 if active else session_end_all(user_id=user.id)
    if changed:
        operator_audit(
            operator=operator,
            action="user.reactivate" if active else "user.deactivate",
            user=user,
            before={"is_active": not active},
            after={"is_active": active},
        )
    elif ended:
        operator_audit(
            operator=operator,
            action="user.end_sessions",
            user=user,
            before={"sessions": ended},
            after={"sessions": 0},
        )
    state = "active" if active else "inactive"
    logger.info(
        "user %s %s by %s (manage.py); %d sessions ended",
        user.id,
        f"made {state}" if changed else f"already {state}, asked again",
        operator,
        ended,
    )
    return ActiveChange(changed=changed, sessions_ended=ended)


def user_end_sessions(*, operator: str, user: User) -> int:
    """End every session of ``user`` for an operator; return how many ended.

    Audited ("user.end_sessions", how many → 0) when any ended. The admin's path,
    with its refusals, is :func:`user_admin_end_sessions`.
    """
    ended = session_end_all(user_id=user.id)
    if ended:
        operator_audit(
            operator=operator,
            action="user.end_sessions",
            user=user,
            before={"sessions": ended},
            after={"sessions": 0},
        )
    logger.info("%s (manage.py) ended %d sessions of user %s", operator, ended, user.id)
    return ended


def user_import(
    *,
    operator: str,
    email: str,
    display_name: str = "",
    is_active: bool = True,
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
) -> User:
    """Create a user for an operator's import (``manage.py importusers``).

    The account gets an unusable password: its owner sets one with "Forgot your
    password?" (the reset mail goes to the imported address). Audited
    ("user.import", the account's address and flags) right after. Raises
    ``EmailTakenError`` when the address is in use, as :func:`user_create` does.
    """
    user = user_create(
        email=email,
        password=None,
        display_name=display_name,
        is_active=is_active,
        is_staff=is_staff,
        is_superuser=is_superuser,
        email_verified=email_verified,
    )
    fields = ("email", "display_name", "is_active", "email_verified", "is_staff", "is_superuser")
    operator_audit(
        operator=operator,
        action="user.import",
        user=user,
        before={},
        after={name: getattr(user, name) for name in fields},
    )
    logger.info("user %s imported by %s (manage.py)", user.id, operator)
    return user


def user_delete(
    *, user: User, audit: AuditEntry | None = None, condition: Condition | None = None
) -> list[str]:
    """Delete the user, their address claim, second factor and sessions; say what was removed.

    ``audit`` (an admin's deletion) is saved in the same transaction as the
    user and claim deletes; ``condition`` is checked on the stored user.
    """
    sessions = session_list_for_user(user_id=user.id)

    def write(transaction: TransactWrite) -> None:
        transaction.delete(User(user.id), condition=condition, add_version_condition=False)
        transaction.delete(
            EmailClaim(normalize_email(user.email)), condition=EmailClaim.user_id == user.id
        )
        transaction.delete(SecondFactor(user.id))
        if audit is not None:
            transaction.save(audit, condition=AuditEntry.id.does_not_exist())

    _transact(write)
    removed = ["your account and profile", f"your email address {user.email}"]
    ended = session_end_all(user_id=user.id, sessions=sessions, drop_list=True)
    removed.append(f"{ended} session{'s' if ended != 1 else ''}")
    # Only where there is one (or was about to be): storage is not called otherwise.
    if (user.avatar or user.avatar_pending) and avatar_objects_delete(user_id=user.id):
        removed.append("your profile picture")
    for _receiver, description in user_deleted.send(sender=User, user_id=user.id):
        if description:
            removed.append(description)
    return removed


# --- Sessions and their list (accounts.models, "The session list") ----------------------
#
# A signed-in session is written in one TransactWriteItems with its entry in its user's
# session list: creating, saving, stamping and deleting it change both or neither, so
# the list the sessions page shows (without a read of its own) stays true. The session
# item decides whether a session is signed in; the list is for display. Anonymous
# sessions have no list and are written as before.

# Concurrent writes to one user's list (two browsers stamping "last seen") cancel
# each other with TransactionConflict; they are retried a few times.
_SESSION_WRITE_ATTEMPTS = 5
# Items per transaction: DynamoDB allows 100 now, 25 before 2022 (and moto still does);
# the list's own write is one of them.
_TRANSACTION_ITEMS = 25
_SESSION_DELETES_PER_TRANSACTION = _TRANSACTION_ITEMS - 1


def _no_reason(code: str | None) -> str | None:
    return None if code in (None, "None") else code


def _session_transact(items: list[dict]) -> list[str | None] | None:
    """Run one TransactWriteItems; return None once written, or the reasons a condition failed.

    A transaction that met a concurrent one is retried briefly; if it keeps
    meeting them, ``ConcurrentEditError``.
    """

    def once() -> list[str | None] | None:
        try:
            connection().client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [
                _no_reason(reason.get("Code"))
                for reason in exc.response.get("CancellationReasons", [])
            ]
            if "ConditionalCheckFailed" in reasons:
                return reasons
            if "TransactionConflict" in reasons:
                raise _ConflictedError from exc
            raise
        return None

    return _with_conflict_retries(once, attempts=_SESSION_WRITE_ATTEMPTS)


def _sessions_table() -> str:
    return Session.Meta.table_name


def _key(key: str) -> dict:
    return {"key": {"S": key}}


def _list_update(
    user_id: str,
    *,
    put: Collection[SessionEntry] = (),
    remove: Collection[str] = (),
    must_exist: bool = False,
) -> dict:
    """Return the transaction item that sets ``put`` and removes ``remove`` (stored ids).

    ``must_exist``: only if the list exists (a remove never makes an empty list,
    e.g. for an account just deleted).
    """
    names: dict[str, str] = {}
    values: dict[str, dict] = {}
    sets, removes = [], []
    for n, entry in enumerate(put):
        names[f"#p{n}"] = session_entry_name(entry.stored_id)
        values[f":p{n}"] = {"S": entry.encode()}
        sets.append(f"#p{n} = :p{n}")
    for n, stored in enumerate(remove):
        names[f"#r{n}"] = session_entry_name(stored)
        removes.append(f"#r{n}")
    expression = " ".join(
        part
        for part in (
            f"SET {', '.join(sets)}" if sets else "",
            f"REMOVE {', '.join(removes)}" if removes else "",
        )
        if part
    )
    update: dict = {
        "TableName": _sessions_table(),
        "Key": _key(session_list_key(user_id)),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
    }
    if values:
        update["ExpressionAttributeValues"] = values
    if must_exist:
        names["#k"] = "key"
        update["ConditionExpression"] = "attribute_exists(#k)"
    return {"Update": update}


def _delete_sessions(*, user_id: str, stored_ids: Collection[str], drop_list: bool = False) -> None:
    """Delete sessions of the user and their list entries, transaction by transaction.

    ``drop_list``: delete the whole list too (the account is going). A user whose
    list does not exist (sessions from before the lists) gets none made by this.
    """
    ids = sorted(stored_ids)
    chunks = [
        ids[start : start + _SESSION_DELETES_PER_TRANSACTION]
        for start in range(0, len(ids), _SESSION_DELETES_PER_TRANSACTION)
    ] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        deletes = [{"Delete": {"TableName": _sessions_table(), "Key": _key(i)}} for i in chunk]
        if drop_list and number == len(chunks):
            list_item = {
                "Delete": {"TableName": _sessions_table(), "Key": _key(session_list_key(user_id))}
            }
        elif chunk:
            list_item = _list_update(user_id, remove=chunk, must_exist=True)
        else:
            continue
        if _session_transact([*deletes, list_item]) is not None and deletes:
            # No list to remove entries from: the sessions alone.
            _session_transact(deletes)


def _entries_to_prune(*, user_id: str, new: str, now: datetime) -> tuple[list[str], list[str]]:
    """Return (entries to remove, sessions to end) before ``new`` joins the user's list.

    Entries of expired sessions go; beyond ``SESSION_LIST_CAP`` live sessions, the
    least recently seen end, so the list (and the sessions page) stays bounded.
    """
    entries = [e for e in session_entries_get(user_id=user_id) if e.stored_id != new]
    expired = [e.stored_id for e in entries if e.expires <= now]
    live = sorted((e for e in entries if e.expires > now), key=lambda e: e.last_seen)
    overflow = [e.stored_id for e in live[: max(0, len(live) - SESSION_LIST_CAP + 1)]]
    # The transaction also puts the session and updates the list; any more end next time.
    overflow = overflow[: _TRANSACTION_ITEMS - 2]
    return expired + overflow, overflow


def session_end(*, user_id: str, public_id: str) -> bool:
    """End one of the user's live sessions, named by its public id; False if there was none.

    Only the user's own sessions can be named: the id is looked up in their
    session list (a consistent read) and, for a session from before the lists,
    in the ``by-user`` index.
    """
    live = session_entries_live(session_entries_get(user_id=user_id))
    stored = next((e.stored_id for e in live if e.public_id == public_id), None)
    if stored is None:
        sessions = session_list_for_user(user_id=user_id)
        stored = next((s.id for s in sessions if s.public_id == public_id), None)
    if stored is None:
        return False
    _delete_sessions(user_id=user_id, stored_ids=[stored])
    return True


def session_end_all(
    *,
    user_id: str,
    except_keys: Iterable[str | None] = (),
    sessions: Iterable[Session] | None = None,
    drop_list: bool = False,
) -> int:
    """End every session of the user but those of ``except_keys``; return how many ended.

    The sessions are those of the user's list and of the ``by-user`` index (or
    ``sessions``, read from it before): the list is consistent, the index also
    knows sessions from before the lists. Entries of expired sessions go too,
    uncounted. ``drop_list``: delete the list as well (the account is going).
    """
    if sessions is None:
        sessions = session_list_for_user(user_id=user_id)
    entries = session_entries_get(user_id=user_id)
    kept = {stored for key in except_keys if key for stored in session_keys.stored_ids(key)}
    live = ({s.id for s in sessions} | {e.stored_id for e in session_entries_live(entries)}) - kept
    expired = {e.stored_id for e in entries} - live - kept
    _delete_sessions(user_id=user_id, stored_ids=live | expired, drop_list=drop_list)
    return len(live)


def _session_item(
    *,
    stored_id: str,
    data: str,
    expires: datetime,
    user_id: str | None,
    created: datetime,
    last_seen: datetime,
    ip: str | None,
    user_agent: str | None,
) -> Session:
    return Session(
        stored_id,
        data=data,
        expires=expires,
        user_id=user_id,
        created=created,
        last_seen=last_seen,
        ip=ip,
        user_agent=user_agent,
    )


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
    """Write a session; False if ``must_create`` and it exists, or not and it is gone.

    A signed-in session is written with its entry in its user's list, in one
    transaction; a new one also prunes the list (:func:`_entries_to_prune`), which
    costs one read of it first.
    """
    now = timezone.now()
    session = _session_item(
        stored_id=stored_id,
        data=data,
        expires=expires,
        user_id=user_id,
        created=created,
        last_seen=now,
        ip=ip,
        user_agent=user_agent,
    )
    condition = Session.id.does_not_exist() if must_create else Session.id.exists()
    if user_id is None:
        try:
            session.save(condition=condition)
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True
    entry = SessionEntry(
        stored_id=stored_id,
        device=describe_device(user_agent),
        ip=ip,
        created=created,
        last_seen=now,
        expires=session.expires,
    )
    remove, end = [], []
    if must_create:
        remove, end = _entries_to_prune(user_id=user_id, new=stored_id, now=now)
    put = {
        "Put": {
            "TableName": _sessions_table(),
            "Item": session.serialize(),
            "ConditionExpression": "attribute_not_exists(#k)"
            if must_create
            else "attribute_exists(#k)",
            "ExpressionAttributeNames": {"#k": "key"},
        }
    }
    ended = [{"Delete": {"TableName": _sessions_table(), "Key": _key(i)}} for i in end]
    items = [put, _list_update(user_id, put=[entry], remove=remove), *ended]
    return _session_transact(items) is None


def session_touch(
    *,
    stored_id: str,
    ip: str | None,
    user_id: str | None = None,
    user_agent: str | None = None,
    created: datetime | None = None,
    expires: datetime | None = None,
) -> None:
    """Stamp "last seen" (at most every five minutes per session, by the middleware).

    A signed-in session (``user_id`` and the times it was loaded with) stamps its
    list entry in the same transaction; a session ended meanwhile is left ended.
    """
    now = timezone.now()
    stamp = [Session.last_seen.set(now), Session.ip.set(ip)]
    if user_id is None or created is None or expires is None:
        try:
            Session(stored_id).update(actions=stamp, condition=Session.id.exists())
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
        return
    entry = SessionEntry(
        stored_id=stored_id,
        device=describe_device(user_agent),
        ip=ip,
        created=created,
        last_seen=now,
        expires=expires,
    )
    update = {
        "Update": {
            "TableName": _sessions_table(),
            "Key": _key(stored_id),
            "UpdateExpression": "SET #l = :l, #i = :i",
            "ConditionExpression": "attribute_exists(#k)",
            "ExpressionAttributeNames": {"#l": "last_seen", "#i": "ip", "#k": "key"},
            "ExpressionAttributeValues": {
                ":l": {"S": Session.last_seen.serialize(now)},
                ":i": {"S": ip} if ip is not None else {"NULL": True},
            },
        }
    }
    try:
        _session_transact([update, _list_update(user_id, put=[entry])])
    except ConcurrentEditError:
        # Busy with other writes to the list: the next request stamps instead.
        logger.info("last seen of a session of user %s not stamped: busy", user_id)


def session_delete(*, stored_ids: Collection[str], user_id: str | None = None) -> None:
    """Delete a session stored under any of ``stored_ids`` (logging out).

    ``user_id``: a signed-in session's user, whose list loses its entry in the same
    transaction.
    """
    if user_id is not None:
        _delete_sessions(user_id=user_id, stored_ids=stored_ids)
        return
    if len(stored_ids) == 1:
        Session(next(iter(stored_ids))).delete()
        return
    with Session.batch_write() as batch:
        for stored in stored_ids:
            batch.delete(Session(stored))


def session_delete_expired() -> int:
    """Delete expired sessions and prune the lists' entries of them; return how many ended.

    One Scan of the sessions table, page by page (for ``clearsessions``, never a
    request). A list keeps its live entries; it is not deleted even when none are
    left (a delete could not tell whether a sign-in added one meanwhile), and the
    removal requires it to still exist, so an account deleted meanwhile gets no
    empty list back.
    """
    now = timezone.now()
    client = connection().client
    count = pruned = 0
    with Session.batch_write() as batch:
        pages = client.get_paginator("scan").paginate(TableName=_sessions_table())
        for item in (item for page in pages for item in page["Items"]):
            key = item["key"]["S"]
            if is_session_list_key(key):
                user_id = key[len(SESSION_LIST_PREFIX) :]
                expired = [e.stored_id for e in session_entries_decode(item) if e.expires <= now]
                pruned += _list_entries_remove(client, user_id=user_id, stored_ids=expired)
            elif "expires" in item and int(item["expires"]["N"]) <= now.timestamp():
                batch.delete(Session(key))
                count += 1
    logger.info("deleted %d expired sessions, pruned %d list entries", count, pruned)
    return count


# Entries one update removes: far below DynamoDB's 4 KB expression limit.
_LIST_REMOVES_PER_UPDATE = 50


def _list_entries_remove(client: Any, *, user_id: str, stored_ids: list[str]) -> int:
    """Remove entries from the user's list if it still exists; return how many went."""
    removed = 0
    for start in range(0, len(stored_ids), _LIST_REMOVES_PER_UPDATE):
        chunk = stored_ids[start : start + _LIST_REMOVES_PER_UPDATE]
        try:
            client.update_item(**_list_update(user_id, remove=chunk, must_exist=True)["Update"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return removed  # the account (and its list) went meanwhile
        removed += len(chunk)
    return removed


def session_end_everyone(*, operator: str) -> int:
    """End every session there is, signed in or not; return how many ended.

    A Scan: for the operator's ``manage.py users endsessions --all``, never a
    request. The session lists go with them (not counted). Audited
    ("session.end_all" on the entity ``session:all``, how many → 0) when any ended.
    """
    count = 0
    with Session.batch_write() as batch:
        for session in Session.scan(page_size=100):
            batch.delete(session)
            count += not is_session_list_key(session.id)
    if count:
        audit_record(
            actor_id=operator,
            actor_label=operator,
            action="session.end_all",
            entity_type="session",
            entity_id="all",
            entity_label="every session",
            before={"sessions": count},
            after={"sessions": 0},
            source=SOURCE_COMMAND,
        )
    logger.info("%s (manage.py) ended every session: %d", operator, count)
    return count


def second_factor_begin(*, user: User) -> SecondFactor:
    """Return the user's second factor being set up, making one with a new secret if none exists.

    Raises ``SecondFactorStateError`` once a factor is confirmed: replacing it
    takes a superuser's reset, never the password alone.
    """
    factor = second_factor_get(user_id=user.id)
    if factor is None:
        factor = SecondFactor(
            user.id, secret=otp.encrypt_secret(otp.new_secret()), created=timezone.now()
        )
        try:
            factor.save(condition=SecondFactor.user_id.does_not_exist())
        except PutError as exc:
            if not _condition_failed(exc):
                raise
            # Another tab began at the same moment: show everyone the same secret.
            factor = second_factor_get(user_id=user.id)
            if factor is None:
                raise ConcurrentEditError from exc
    if factor.confirmed:
        raise SecondFactorStateError("a second factor is already set up")
    return factor


def second_factor_confirm(*, user: User, code: str) -> list[str] | None:
    """Activate the factor being set up if ``code`` is its current code.

    Return the new recovery codes (shown once, stored hashed), or None if the code
    is wrong. Raises ``SecondFactorStateError`` if no factor is being set up, and
    ``ConcurrentEditError`` if it changed meanwhile (confirmed or reset elsewhere).
    """
    factor = second_factor_get(user_id=user.id)
    if factor is None or factor.confirmed:
        raise SecondFactorStateError("no second factor is being set up")
    secret, _stale = otp.decrypt_secret(factor.secret)
    step = otp.totp_matching_step(secret, otp.normalize_code(code))
    if step is None:
        return None
    codes = otp.new_recovery_codes()
    now = timezone.now()
    try:
        factor.update(
            actions=[
                SecondFactor.confirmed.set(True),
                SecondFactor.confirmed_at.set(now),
                SecondFactor.last_used.set(now),
                SecondFactor.last_step.set(step),
                SecondFactor.recovery_codes.set(
                    {otp.recovery_code_hash(user_id=user.id, code=c) for c in codes}
                ),
                SecondFactor.secret.set(otp.encrypt_secret(secret)),
            ],
            # The very secret the person saw, still unconfirmed.
            condition=(SecondFactor.confirmed == False)  # noqa: E712
            & (SecondFactor.secret == factor.secret),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            raise ConcurrentEditError from exc
        raise
    logger.info("user %s set up a second factor", user.id)
    return codes


def second_factor_verify(*, user: User, code: str) -> str | None:
    """Check a TOTP or recovery code against the user's confirmed factor; each works once.

    Return which kind of code passed (``"totp"`` or ``"recovery"``), or None if it
    was wrong or already used. A TOTP time step is recorded with a condition that
    it is newer than the last one, and a recovery code is removed with a condition
    that it is still there: two requests racing with one code cannot both pass.
    """
    factor = second_factor_get(user_id=user.id)
    if factor is None or not factor.confirmed:
        return None
    code = otp.normalize_code(code)
    now = timezone.now()
    if otp.is_totp_code(code):
        try:
            secret, stale = otp.decrypt_secret(factor.secret)
        except otp.UndecryptableSecretError:
            # Recovery codes (hashed, not encrypted) still work; the operator must act.
            logger.exception("second factor of user %s: secret not decryptable", user.id)
            return None
        step = otp.totp_matching_step(secret, code, after_step=factor.last_step)
        if step is None:
            return None
        actions = [SecondFactor.last_step.set(step), SecondFactor.last_used.set(now)]
        if stale:
            actions.append(SecondFactor.secret.set(otp.encrypt_secret(secret)))
        condition = (SecondFactor.confirmed == True) & (SecondFactor.last_step < step)  # noqa: E712
        kind = "totp"
    elif otp.is_recovery_code(code):
        hashed = otp.recovery_code_hash(user_id=user.id, code=code)
        actions = [SecondFactor.recovery_codes.delete({hashed}), SecondFactor.last_used.set(now)]
        condition = (SecondFactor.confirmed == True) & SecondFactor.recovery_codes.contains(  # noqa: E712
            hashed
        )
        kind = "recovery"
    else:
        return None
    try:
        factor.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if _condition_failed(exc):
            return None
        raise
    if kind == "recovery":
        logger.info("user %s used a recovery code; %d left", user.id, factor.recovery_codes_left)
    return kind


def second_factor_reset(*, actor: User, user: User) -> bool:
    """Delete ``user``'s second factor and end their sessions; False if they had none.

    Only a superuser may, and not their own (another superuser does that). The
    person sets up a new factor at their next admin visit. The delete and its
    audit entry ("user.second_factor_reset") are one transaction.
    """
    if not actor.is_superuser:
        raise AdminActionRefusedError("Only a superuser may reset a second factor.")
    if actor.id == user.id:
        raise AdminActionRefusedError("Another superuser must reset your own second factor.")
    entry = _admin_entry(
        actor=actor,
        action="user.second_factor_reset",
        user=user,
        before={"second_factor": True},
        after={"second_factor": False},
    )

    def write(transaction: TransactWrite) -> None:
        transaction.delete(SecondFactor(user.id), condition=SecondFactor.user_id.exists())
        transaction.save(entry, condition=AuditEntry.id.does_not_exist())

    try:
        _transact(write)
    except TransactWriteError as exc:
        # TransactItems are [delete factor, put entry]: no factor, nothing recorded.
        if _cancelled_by(exc)[:1] == ["ConditionalCheckFailed"]:
            return False
        raise
    # Sessions that passed the old factor must not outlive it.
    session_end_all(user_id=user.id)
    logger.info("admin %s reset the second factor of user %s", actor.id, user.id)
    return True


# --- Avatars (pictures.avatar; docs/jobs.md, "Avatar") ------------------------------


class AvatarStorageError(Exception):
    """Media storage could not take or give the picture now; nothing was changed."""


def user_avatar_upload(
    *, user: User, data: bytes, picture: PictureInfo, idempotency_key: str
) -> Job:
    """Store a checked picture and start the job that makes it the user's avatar.

    Once per idempotency key: a double submit finds the job the first one made and
    stores nothing. The original goes to ``media/avatar-uploads/<id>/<job id>.<ext>``
    through the default storage (the media bucket), then ``avatar_pending`` names the
    job (before it can start: the worker only uses a picture that is still pending),
    then the job starts. Raises ``jobs.services.NotAllowedError`` (address not
    confirmed), :class:`AvatarStorageError`, :class:`UserGoneError`.
    """
    if not user.can_start_jobs:
        raise job_services.NotAllowedError("Confirm your email address to upload a picture.")
    job_id = job_id_for(owner_id=user.id, idempotency_key=idempotency_key)
    existing = job_get(job_id=job_id)
    if existing is not None:
        return existing
    key = avatars.upload_key(owner_id=user.id, job_id=job_id, extension=picture.extension)
    try:
        stored = default_storage.save(key, ContentFile(data, name=key))
    except (OSError, BotoCoreError, ClientError) as exc:
        logger.exception("the picture of user %s could not be stored", user.id)
        raise AvatarStorageError from exc
    try:
        _update_user(user.id, [User.avatar_pending.set(job_id)])
    except UserGoneError:
        default_storage.delete(stored)
        raise
    user.avatar_pending = job_id
    return job_services.job_start(
        user=user,
        kind=JobKind.AVATAR,
        idempotency_key=idempotency_key,
        params={"upload": stored},
    )


def _avatar_objects_delete(user_id: str) -> int:
    """Delete every avatar object of the user (sizes and originals); return how many."""
    deleted = 0
    pending = [prefix.rstrip("/") for prefix in avatars.owner_prefixes(user_id)]
    while pending:
        folder = pending.pop()
        folders, files = default_storage.listdir(folder)
        pending.extend(f"{folder}/{name}" for name in folders)
        for name in files:
            default_storage.delete(f"{folder}/{name}")
            deleted += 1
    return deleted


def avatar_objects_delete(*, user_id: str) -> bool:
    """Delete the user's avatar objects; return False (and log) if storage failed."""
    try:
        _avatar_objects_delete(user_id)
    except (OSError, BotoCoreError, ClientError):
        logger.exception("the avatar objects of user %s could not be deleted", user_id)
        return False
    return True


def user_avatar_remove(*, user: User) -> bool:
    """Stop showing the user's avatar and delete its objects; False if there was none.

    The user item first (the page never links to a deleted object), then storage
    (best effort, logged). A job still running finds its upload gone, or no longer
    pending, and changes nothing.
    """
    if not (user.avatar or user.avatar_pending):
        return False
    _update_user(user.id, [User.avatar.remove(), User.avatar_pending.remove()])
    user.avatar = user.avatar_pending = None
    avatar_objects_delete(user_id=user.id)
    return True
