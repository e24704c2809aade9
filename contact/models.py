"""The contact-messages table: what visitors wrote in, and what became of it.

docs/data-model.md lists the table and each access pattern with its function.
"""

from typing import ClassVar

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from datalayer.models import NebulaModel

STATUS_NEW = "new"
STATUS_HANDLED = "handled"
STATUSES = (STATUS_NEW, STATUS_HANDLED)

MAIL_PENDING = "pending"
MAIL_SENT = "sent"
MAIL_FAILED = "failed"

# The two mails each message causes; one attribute each, so their outcomes,
# reported by two mail threads at once, never overwrite each other.
CONFIRMATION = "confirmation"
NOTIFICATION = "notification"
MAILS = (CONFIRMATION, NOTIFICATION)


class Reply(MapAttribute):
    """A reply a staff member sent by mail from the admin."""

    sent_at = UTCDateTimeAttribute()
    by = UnicodeAttribute()  # the staff member's user id
    by_email = UnicodeAttribute()  # their address then, for people reading the record
    subject = UnicodeAttribute()
    body = UnicodeAttribute()
    mail_status = UnicodeAttribute(default=MAIL_PENDING)
    mail_error = UnicodeAttribute(null=True)


class MessagesByStatus(GlobalSecondaryIndex):
    """The admin's lists: new or handled messages, newest first."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute(range_key=True)


class MessagesBySender(GlobalSecondaryIndex):
    """A signed-in sender's messages, newest first: their data export (sparse: ``user_id``)."""

    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute(range_key=True)


class ContactMessage(NebulaModel):
    """One message sent through the contact form."""

    class Meta:
        table_name = "contact-messages"

    id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    subject = UnicodeAttribute()
    message = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)  # the signed-in sender, if any
    status = UnicodeAttribute(default=STATUS_NEW)
    handled_by = UnicodeAttribute(null=True)  # user id
    handled_by_email = UnicodeAttribute(null=True)
    handled_at = UTCDateTimeAttribute(null=True)
    # pending / sent / failed, and why it failed.
    confirmation_mail = UnicodeAttribute(default=MAIL_PENDING)
    confirmation_error = UnicodeAttribute(null=True)
    notification_mail = UnicodeAttribute(default=MAIL_PENDING)
    notification_error = UnicodeAttribute(null=True)
    replies = ListAttribute(of=Reply, default=list)
    by_status = MessagesByStatus()
    by_user = MessagesBySender()

    MAIL_LABELS: ClassVar[dict[str, str]] = {
        CONFIRMATION: "confirmation to the sender",
        NOTIFICATION: "notification to staff",
    }

    @property
    def mail_status(self) -> str:
        """Return the state of both mails: failed if one failed, pending if one is pending."""
        states = {self.confirmation_mail, self.notification_mail}
        if MAIL_FAILED in states:
            return MAIL_FAILED
        if MAIL_PENDING in states:
            return MAIL_PENDING
        return MAIL_SENT

    @property
    def mail_failures(self) -> list[str]:
        """Say which mail failed and why, one line each."""
        return [
            f"{self.MAIL_LABELS[which]}: {getattr(self, f'{which}_error') or 'unknown error'}"
            for which in MAILS
            if getattr(self, f"{which}_mail") == MAIL_FAILED
        ]


# Limits the form enforces and the services check again.
NAME_MAX_LENGTH = 100
SUBJECT_MAX_LENGTH = 150
MESSAGE_MAX_LENGTH = 5000
REPLY_MAX_LENGTH = 10000
