"""Email addresses as Nebula stores, compares and mails them (``datalayer.emails``).

The rules live in the Django-free data layer, so the Lambda code (the bulk user
import) canonicalises addresses exactly as the site does; this module is where the
site's code names them.
"""

from datalayer.emails import (
    INVALID,
    MAX_LENGTH,
    UNSUPPORTED_DOMAIN,
    InvalidEmailError,
    canonical_email,
    email_key,
)

__all__ = [
    "INVALID",
    "MAX_LENGTH",
    "UNSUPPORTED_DOMAIN",
    "InvalidEmailError",
    "canonical_email",
    "email_key",
]
