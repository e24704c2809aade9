"""Writes of contact messages: stored first, then what became of each mail.

A message is one ``PutItem``; nothing else is written when it is made, so a
DynamoDB failure leaves the whole message or none (the view then shows the
503 page). Mail outcomes are recorded afterwards, one attribute per mail, by
``contact.emails``. Errors a person can act on are raised as the exceptions
below; DynamoDB outages propagate.
"""

import logging
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from datalayer.counters import CONTACT_MESSAGES, counter_move
from datalayer.models import connection
from nebula.audit import AuditEntry, audit_entry, audit_record
from nebula.email_addresses import canonical_email
from nebula.mail import Delivery
from nebula.validators import validate_one_line_text

from .models import (
    MAIL_FAILED,
    MAIL_SENT,
    MAILS,
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    STATUS_HANDLED,
    STATUS_NEW,
    SUBJECT_MAX_LENGTH,
    ContactMessage,
    Reply,
)
from .selectors import message_get

logger = logging.getLogger(__name__)

# How the audit log names a contact message (nebula.audit; its admin page: contact.admin).
ENTITY_TYPE = "contact_message"


class MessageGoneError(Exception):
    """No message has this id (any more)."""


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _check_length(value: str, limit: int, what: str) -> None:
    if not value or len(value) > limit:
        raise ValidationError(f"The {what} must have 1 to {limit} characters.")


def message_create(
    *, name: str, email: str, subject: str, message: str, user_id: str | None = None
) -> ContactMessage:
    """Store a new message (status new, both mails pending) and return it.

    The form checks all of this first; the checks are repeated here because the
    name and subject reach mail and admin pages: ``ValidationError`` or
    ``InvalidEmailError`` if a value is not acceptable.
    """
    name, subject = name.strip(), subject.strip()
    for value, limit, what in (
        (name, NAME_MAX_LENGTH, "name"),
        (subject, SUBJECT_MAX_LENGTH, "subject"),
        (message, MESSAGE_MAX_LENGTH, "message"),
    ):
        _check_length(value, limit, what)
    validate_one_line_text(name)
    validate_one_line_text(subject)
    item = ContactMessage(
        uuid.uuid4().hex,
        created=timezone.now(),
        name=name,
        email=canonical_email(email),
        subject=subject,
        message=message,
        user_id=user_id,
        status=STATUS_NEW,
    )
    item.save(condition=ContactMessage.id.does_not_exist())
    counter_move(CONTACT_MESSAGES, source=None, target=STATUS_NEW)
    return item


def message_record_mail(*, message_id: str, which: str, delivery: Delivery) -> None:
    """Record what became of one of the message's mails (``which``: a name in ``MAILS``)."""
    if which not in MAILS:
        raise ValueError(f"unknown mail {which!r}")
    state = getattr(ContactMessage, f"{which}_mail")
    error = getattr(ContactMessage, f"{which}_error")
    actions = [state.set(MAIL_SENT if delivery.sent else MAIL_FAILED)]
    actions.append(error.remove() if delivery.sent else error.set(delivery.reason or "unknown"))
    if not delivery.sent:
        logger.warning("contact message %s: the %s mail failed", message_id, which)
    try:
        ContactMessage(message_id).update(actions=actions, condition=ContactMessage.id.exists())
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise
        logger.warning("contact message %s is gone; its %s mail not recorded", message_id, which)


def _label(message_id: str) -> str:
    # The reference the sender was told (contact.emails.reference): the message may go.
    return f"message {message_id[:8]}"


def message_mark_handled(*, message_id: str, actor_id: str, actor_email: str) -> bool:
    """Mark a new message handled by the actor; False if it was handled already.

    The change and its audit entry ("contact_message.handle", status new →
    handled) are one transaction: both or neither. Raises ``MessageGoneError`` if
    there is no such message.
    """
    entry = audit_entry(
        actor_id=actor_id,
        actor_label=actor_email,
        action="contact_message.handle",
        entity_type=ENTITY_TYPE,
        entity_id=message_id,
        entity_label=_label(message_id),
        before={"status": STATUS_NEW},
        after={"status": STATUS_HANDLED, "handled_by": actor_email},
    )
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(
                ContactMessage(message_id),
                actions=[
                    ContactMessage.status.set(STATUS_HANDLED),
                    ContactMessage.handled_by.set(actor_id),
                    ContactMessage.handled_by_email.set(actor_email),
                    ContactMessage.handled_at.set(entry.at),
                ],
                condition=ContactMessage.id.exists() & (ContactMessage.status == STATUS_NEW),
            )
            transaction.save(entry, condition=AuditEntry.id.does_not_exist())
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" not in reasons:
            raise
        if message_get(message_id=message_id) is None:
            raise MessageGoneError(message_id) from exc
        return False
    counter_move(CONTACT_MESSAGES, source=STATUS_NEW, target=STATUS_HANDLED)
    return True


def message_add_reply(
    *, message_id: str, actor_id: str, actor_email: str, subject: str, body: str
) -> int:
    """Record a reply on the message (its mail pending) before it is sent; return its index.

    The audit entry ("contact_message.reply": the number of replies, the address
    and subject) follows the append at once: the append must return the reply's
    index (``ALL_NEW``), which a transaction cannot. Raises ``MessageGoneError``
    if there is no such message.
    """
    subject = subject.strip()
    _check_length(subject, SUBJECT_MAX_LENGTH, "subject")
    _check_length(body, REPLY_MAX_LENGTH, "reply")
    validate_one_line_text(subject)
    reply = Reply(
        sent_at=timezone.now(), by=actor_id, by_email=actor_email, subject=subject, body=body
    )
    item = ContactMessage(message_id)
    try:
        # ALL_NEW: the reply just appended is the last one, whatever others append later.
        item.update(
            actions=[ContactMessage.replies.set(ContactMessage.replies.append([reply]))],
            condition=ContactMessage.id.exists(),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            raise MessageGoneError(message_id) from exc
        raise
    index = len(item.replies) - 1
    audit_record(
        actor_id=actor_id,
        actor_label=actor_email,
        action="contact_message.reply",
        entity_type=ENTITY_TYPE,
        entity_id=message_id,
        entity_label=_label(message_id),
        before={"replies": index},
        after={"replies": index + 1, "reply_to": item.email, "reply_subject": subject},
    )
    return index


def reply_record_mail(*, message_id: str, index: int, delivery: Delivery) -> None:
    """Record what became of the mail of reply number ``index`` of the message."""
    reply = ContactMessage.replies[index]
    actions = [reply["mail_status"].set(MAIL_SENT if delivery.sent else MAIL_FAILED)]
    if not delivery.sent:
        actions.append(reply["mail_error"].set(delivery.reason or "unknown"))
        logger.warning("contact message %s: reply %d could not be mailed", message_id, index)
    ContactMessage(message_id).update(actions=actions, condition=ContactMessage.id.exists())
