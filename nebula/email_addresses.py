"""Email addresses as Nebula stores, compares and mails them: one mailbox, one form.

``canonical_email`` is the address that is stored and that mail goes to;
``email_key`` is what uniqueness (and a per-account rate limit) is checked on.
Both are pure functions, so every caller agrees on them.

- The domain is canonical: NFKC, then IDNA (Python's ``idna`` codec, IDNA 2003
  with nameprep: fullwidth letters, ideographic dots and soft hyphens map to
  what they look like), then lower case. ``alice@example.com`` typed in
  fullwidth letters *is* ``alice@example.com``: that is where mail for it goes.
- A domain the two IDNA standards would route differently is refused rather
  than guessed: sharp s, final sigma and the zero-width joiners (IDNA 2003 maps
  them away, IDNA 2008 keeps them), and characters Unicode 3.2 (IDNA 2003's
  repertoire) did not have. The person can type the ``xn--`` form instead.
- The local part is kept as typed (after NFC) and must be ASCII, as Django's
  validator intends: only a case-folding quirk of its pattern lets the long s
  or the dotted and dotless i through. Its case is ignored for uniqueness
  (every common provider ignores it); dots and ``+tags`` are *not* folded:
  that is one provider's rule, and on other domains ``a.b`` and ``ab`` can be
  two people.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_LENGTH = 254

# Sharp s, final sigma, ZWNJ, ZWJ: IDNA 2003 maps them away, IDNA 2008 keeps them.
_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")

INVALID = "Enter a valid email address."
UNSUPPORTED_DOMAIN = (
    "This address’s domain can’t be used as typed. If it has special characters, "
    "type its xn-- form."
)


class InvalidEmailError(ValueError):
    """The text is no email address that can be stored and mailed."""


def canonical_email(address: str) -> str:
    """Return the address to store and mail: local part as typed, canonical domain."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmailError(INVALID)
    local = unicodedata.normalize("NFC", local)
    if not local.isascii():
        raise InvalidEmailError(INVALID)
    canonical = f"{local}@{_canonical_domain(domain)}"
    if len(canonical) > MAX_LENGTH:
        raise InvalidEmailError(f"Ensure this address has at most {MAX_LENGTH} characters.")
    try:
        validate_email(canonical)
    except ValidationError as exc:
        raise InvalidEmailError(INVALID) from exc
    return canonical


def email_key(address: str) -> str:
    """Return what uniqueness is checked on: the canonical address in lower case."""
    return canonical_email(address).lower()


def _canonical_domain(domain: str) -> str:
    domain = unicodedata.normalize("NFKC", domain)
    if _DEVIATIONS.intersection(domain) or any(
        unicodedata.ucd_3_2_0.category(char) == "Cn" for char in domain
    ):
        raise InvalidEmailError(UNSUPPORTED_DOMAIN)
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
        # An xn-- label must be the one its Unicode form encodes to.
        ascii_domain.encode("ascii").decode("idna")
    except UnicodeError as exc:
        raise InvalidEmailError(UNSUPPORTED_DOMAIN) from exc
    return ascii_domain
