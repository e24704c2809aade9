"""Forms of the jobs pages: each start button carries the idempotency key of its page."""

import secrets

from django import forms

from nebula.forms import NebulaForm


def new_idempotency_key() -> str:
    """Return a fresh key for one rendering of a start button (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


class StartJobForm(NebulaForm):
    """A start button: the key it was rendered with makes a double click one job."""

    idempotency_key = forms.RegexField(
        regex=r"\A[A-Za-z0-9_-]{16,64}\Z", widget=forms.HiddenInput, max_length=64
    )
