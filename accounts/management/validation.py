"""Checks the account commands share, with Django's own command wording."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts import selectors
from accounts.auth import MAX_PASSWORD_LENGTH
from accounts.models import User
from nebula.forms import CanonicalEmailField

# The sign-up form's field: the same canonical address, or the same refusal.
_EMAIL = CanonicalEmailField(max_length=254)


def email_problem(email: str) -> str | None:
    """Return why ``email`` cannot be a new superuser's address, or None."""
    if not email.strip():
        return "Email address cannot be blank."
    try:
        _EMAIL.clean(email.strip())
    except ValidationError as exc:
        return "Error: " + "; ".join(exc.messages)
    if selectors.user_get_by_email(email=email) is not None:
        return "Error: That email address is already taken."
    return None


def password_problems(password: str, *, email: str) -> list[str]:
    """Return what is wrong with ``password`` for the account ``email`` (empty: nothing)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"This password is longer than {MAX_PASSWORD_LENGTH} characters."]
    try:
        validate_password(password, User(email=email))
    except ValidationError as exc:
        return list(exc.messages)
    return []
