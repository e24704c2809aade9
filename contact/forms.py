"""Forms: parse and validate input; the writes happen in services."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from nebula.email_addresses import MAX_LENGTH as EMAIL_MAX_LENGTH
from nebula.forms import CanonicalEmailField, NebulaForm
from nebula.validators import validate_one_line_text

from .models import MESSAGE_MAX_LENGTH, NAME_MAX_LENGTH, REPLY_MAX_LENGTH, SUBJECT_MAX_LENGTH

# The honeypot's name: tempting to a bot that fills every field, never shown to people.
HONEYPOT = "website"


def validate_text_block(value: str) -> None:
    """Refuse control characters other than line breaks and tabs (a message, a reply)."""
    for char in value:
        if char not in "\n\r\t" and unicodedata.category(char) == "Cc":
            raise ValidationError(
                "Remove the control characters from this text.", code="control_character"
            )


class ContactForm(NebulaForm):
    name = forms.CharField(
        label="Your name",
        max_length=NAME_MAX_LENGTH,
        validators=[validate_one_line_text],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = CanonicalEmailField(
        label="Your email address",
        max_length=EMAIL_MAX_LENGTH,
        help_text="We answer to this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.CharField(
        label="Subject",
        max_length=SUBJECT_MAX_LENGTH,
        validators=[validate_one_line_text],
    )
    message = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX_LENGTH,
        validators=[validate_text_block],
        help_text=f"Up to {MESSAGE_MAX_LENGTH:,} characters.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    # Not rendered with the other fields: the template hides it from people
    # and screen readers (contact/templates/contact/contact.html).
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def honeypot_filled(self) -> bool:
        """Say whether the hidden field has anything in it (a person never fills it)."""
        return bool(self.data.get(HONEYPOT, "").strip())

    def person_fields(self) -> list[forms.BoundField]:
        """Return the fields people see, in order (not the honeypot)."""
        return [field for field in self.visible_fields() if field.name != HONEYPOT]


class ReplyForm(NebulaForm):
    subject = forms.CharField(
        label="Subject",
        max_length=SUBJECT_MAX_LENGTH,
        validators=[validate_one_line_text],
        widget=forms.TextInput(attrs={"size": 70}),
    )
    body = forms.CharField(
        label="Reply",
        max_length=REPLY_MAX_LENGTH,
        validators=[validate_text_block],
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="Sent by mail to the sender’s address, and kept with the message.",
    )
