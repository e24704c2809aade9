"""The contact form's rate limits, built on ``nebula.ratelimit``.

Every POST counts, per client IP and per address typed, whatever its outcome
(a filled honeypot or a form with errors too): the limits guard against a flood
of stored messages and of confirmation mails to one address.
"""

from django.http import HttpRequest

from nebula.email_addresses import InvalidEmailError, email_key
from nebula.ratelimit import limit


def _posted_email(group: str, request: HttpRequest) -> str:
    # Every spelling of one mailbox shares a count; other text counts as itself.
    typed = request.POST.get("email", "")[:254]
    try:
        return email_key(typed)
    except InvalidEmailError:
        return typed.strip().lower()


contact_per_ip = limit("contact_ip")
contact_per_address = limit("contact_email", key=_posted_email)
