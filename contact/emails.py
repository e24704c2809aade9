"""The mails contact sends, each with its outcome recorded on the message.

Mail to the sender goes to an address nobody verified, so whoever typed it may
not own it: the confirmation carries none of the typed text (not the name, the
subject or the message), only fixed words and the message's reference, or the
form would let anyone send their words to anyone. Subjects are fixed text too:
nothing a visitor typed reaches a mail header. Staff read the message in full
in the admin; their notification names it and links there.
"""

import threading

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from nebula import mail

from . import services
from .models import CONFIRMATION, NOTIFICATION, ContactMessage

CONFIRMATION_SUBJECT = "We received your message to Nebula"
NOTIFICATION_SUBJECT = "New contact message on Nebula"


def _site_root(request: HttpRequest) -> str:
    # A fixed site address when configured: the Host header must not choose where links point.
    if settings.NEBULA_SITE_URL:
        return settings.NEBULA_SITE_URL.rstrip("/")
    return request.build_absolute_uri("/").rstrip("/")


def reference(message: ContactMessage) -> str:
    """Return the short reference people quote (the first 8 characters of the id)."""
    return message.id[:8]


def _recorder(message_id: str, which: str) -> mail.OnDone:
    def record(delivery: mail.Delivery) -> None:
        services.message_record_mail(message_id=message_id, which=which, delivery=delivery)

    return record


def send_received(*, request: HttpRequest, message: ContactMessage) -> None:
    """Confirm receipt to the sender and tell staff; record each outcome on the message."""
    mail.send(
        to=message.email,
        subject=CONFIRMATION_SUBJECT,
        body=render_to_string("contact/email/confirmation.txt", {"reference": reference(message)}),
        on_done=_recorder(message.id, CONFIRMATION),
    )
    recipients = list(settings.NEBULA_CONTACT_RECIPIENTS)
    if not recipients:
        services.message_record_mail(
            message_id=message.id,
            which=NOTIFICATION,
            delivery=mail.Delivery(
                sent=False, reason="no staff address is configured (NEBULA_CONTACT_RECIPIENTS)"
            ),
        )
        return
    link = _site_root(request) + reverse("admin:contact_message", args=[message.id])
    body = render_to_string(
        "contact/email/notification.txt",
        {"message": message, "reference": reference(message), "link": link},
    )
    on_done = _recorder(message.id, NOTIFICATION)
    _send_to_all(recipients, body, on_done)


def _send_to_all(recipients: list[str], body: str, on_done: mail.OnDone) -> None:
    """Send one notification per staff address; report one outcome: failed if any failed."""
    outcomes: list[mail.Delivery] = []
    lock = threading.Lock()  # two mail threads may report at once

    def collect(delivery: mail.Delivery) -> None:
        with lock:
            outcomes.append(delivery)
            if len(outcomes) < len(recipients):
                return
        failed = [o.reason for o in outcomes if not o.sent]
        on_done(mail.Delivery(sent=not failed, reason="; ".join(failed)))

    for address in recipients:
        mail.send(to=address, subject=NOTIFICATION_SUBJECT, body=body, on_done=collect)


def send_reply(*, message: ContactMessage, index: int, subject: str, body: str) -> None:
    """Mail a staff reply to the sender; record its outcome on the reply."""

    def record(delivery: mail.Delivery) -> None:
        services.reply_record_mail(message_id=message.id, index=index, delivery=delivery)

    mail.send(to=message.email, subject=subject, body=body, on_done=record)
