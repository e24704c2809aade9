"""Email addresses as Nebula stores, compares and mails them: one mailbox, one form.

Django-free, so the site (through ``nebula.email_addresses``) and the Lambda code
(the bulk user import) canonicalise an address the same way and agree on the key
of its ``email-claims`` item.

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
- The final check is Django 5.2's ``EmailValidator`` (its patterns are copied
  below, since this module imports no Django); tests/nebula/test_email_addresses.py
  holds the copy equal to Django's own validator on generated addresses.
"""

import ipaddress
import re
import unicodedata

MAX_LENGTH = 254

# Sharp s, final sigma, ZWNJ, ZWJ: IDNA 2003 maps them away, IDNA 2008 keeps them.
_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")

INVALID = "Enter a valid email address."
UNSUPPORTED_DOMAIN = (
    "This address’s domain can’t be used as typed. If it has special characters, "
    "type its xn-- form."
)

# django.core.validators.EmailValidator and DomainNameValidator (Django 5.2), verbatim.
_UL = "\u00a1-\uffff"
_HOSTNAME = r"[a-z" + _UL + r"0-9](?:[a-z" + _UL + r"0-9-]{0,61}[a-z" + _UL + r"0-9])?"
_DOMAIN = r"(?:\.(?!-)[a-z" + _UL + r"0-9-]{1,63}(?<!-))*"
_TLD_NO_FQDN = r"\.(?!-)(?:[a-z" + _UL + "-]{2,63}|xn--[a-z0-9]{1,59})(?<!-)"
_USER_RE = re.compile(
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])'
    r'*"\Z)',
    re.IGNORECASE,
)
_DOMAIN_RE = re.compile(r"^" + _HOSTNAME + _DOMAIN + _TLD_NO_FQDN + r"\Z", re.IGNORECASE)
_LITERAL_RE = re.compile(r"\[([A-F0-9:.]+)\]\Z", re.IGNORECASE)
_DOMAIN_ALLOWLIST = ("localhost",)
_MAX_VALIDATED_LENGTH = 320  # RFC 3696, section 3: what Django's validator accepts at most
_MAX_IPV6_LENGTH = 39


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
    if not is_valid_address(canonical):
        raise InvalidEmailError(INVALID)
    return canonical


def email_key(address: str) -> str:
    """Return what uniqueness is checked on: the canonical address in lower case."""
    return canonical_email(address).lower()


def is_valid_address(value: str) -> bool:
    """Say whether Django's ``validate_email`` would accept ``value`` (the same rules)."""
    if not value or "@" not in value or len(value) > _MAX_VALIDATED_LENGTH:
        return False
    user_part, domain_part = value.rsplit("@", 1)
    if not _USER_RE.match(user_part):
        return False
    return domain_part in _DOMAIN_ALLOWLIST or _is_valid_domain_part(domain_part)


def _is_valid_domain_part(domain_part: str) -> bool:
    if _DOMAIN_RE.match(domain_part):
        return True
    literal = _LITERAL_RE.match(domain_part)
    if literal is None:
        return False
    address = literal[1]
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        pass
    else:
        return True
    if len(address) > _MAX_IPV6_LENGTH:
        return False
    try:
        ipaddress.IPv6Address(int(ipaddress.IPv6Address(address)))
    except ValueError:
        return False
    return True


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
