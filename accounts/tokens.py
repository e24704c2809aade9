"""Signed, expiring, single-use links: email verification, email change, password reset.

Each token signs the state it is meant to change, so it stops working once that
state has changed: a verification link dies when the address is verified (or
changed), an email-change link at the next change of address (it signs the
user's count of address changes, so after A→B→A the first link stays dead), and
a password-reset link (Django's generator) when the password or the last login
changes. Following a link only shows a page: its POST uses the token.
"""

from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import User, is_user_id

_VERIFY_SALT = "accounts.verify-email"
_CHANGE_SALT = "accounts.change-email"

password_reset_tokens = PasswordResetTokenGenerator()


class InvalidTokenError(Exception):
    """The link was tampered with, has expired, or was used already."""


class Verification(NamedTuple):
    user_id: str
    email: str
    email_changes: int


class EmailChange(NamedTuple):
    user_id: str
    old_email: str
    new_email: str
    email_changes: int


def verification_token(user: User) -> str:
    return signing.dumps(
        {"u": user.id, "e": user.email, "n": user.email_changes}, salt=_VERIFY_SALT, compress=True
    )


def read_verification_token(token: str) -> Verification:
    """Return what a verification token says."""
    data = _loads(token, _VERIFY_SALT, "u", "e", "n")
    return Verification(data["u"], data["e"], data["n"])


def email_change_token(user: User, new_email: str) -> str:
    return signing.dumps(
        {"u": user.id, "old": user.email, "new": new_email, "n": user.email_changes},
        salt=_CHANGE_SALT,
        compress=True,
    )


def read_email_change_token(token: str) -> EmailChange:
    """Return what an email-change token says."""
    data = _loads(token, _CHANGE_SALT, "u", "old", "new", "n")
    return EmailChange(data["u"], data["old"], data["new"], data["n"])


def _loads(token: str, salt: str, *keys: str) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=settings.NEBULA_EMAIL_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidTokenError("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise InvalidTokenError("This link is not valid.") from exc
    # A link signed by an older release may lack a field: it is not valid now.
    if not isinstance(data, dict) or not all(key in data for key in keys):
        raise InvalidTokenError("This link is not valid.")
    return data


def encode_uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def decode_uid(uidb64: str) -> str | None:
    """Return the user id in a reset link, or None if it cannot be one."""
    if len(uidb64) > 64:
        return None
    try:
        user_id = force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, UnicodeDecodeError):
        return None
    return user_id if is_user_id(user_id) else None
