"""The second factor's pure parts: TOTP codes, recovery codes, the QR code, the secret's cipher.

Nothing here touches DynamoDB; ``services`` stores what these functions make.

* TOTP (RFC 6238, pyotp): 30-second steps, 6 digits, one step of clock drift
  either way. :func:`totp_matching_step` says *which* step a code belongs to, so
  the caller can refuse a step already used (a code works once).
* Recovery codes: 80 random bits each, shown once, stored as SHA-256 hashes salted
  with the user id. With that much entropy a stolen hash cannot be reversed by
  guessing, so no slow hash is needed (the same reasoning as for API tokens).
* The TOTP secret is stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256)
  under a key derived (HKDF-SHA256) from ``NEBULA_OTP_ENCRYPTION_KEY``, or from
  ``SECRET_KEY`` where that is unset (local mode and tests; production refuses to
  start without it). Old keys in ``NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS`` still
  decrypt; :func:`decrypt_secret` says when a secret should be re-encrypted.

segno and cryptography are imported by the functions that use them: only staff
pages need them, and cryptography alone adds ~7 MiB to every web worker that
imports it (docs/performance.md).
"""

import base64
import hashlib
import re
import secrets
import time
from typing import TYPE_CHECKING

import pyotp
from django.conf import settings
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

STEP_SECONDS = 30
DIGITS = 6
# Steps accepted either side of now: a phone's clock may be a little off.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_CODE_BYTES = 10  # 80 bits: 16 base32 characters

_TOTP_CODE_RE = re.compile(rf"[0-9]{{{DIGITS}}}")
_RECOVERY_CODE_RE = re.compile(r"[a-z2-7]{16}")


class UndecryptableSecretError(Exception):
    """No configured key decrypts a stored secret (a key was retired too early)."""


def new_secret() -> str:
    """Return a new random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32()


def normalize_code(code: str) -> str:
    """Return a typed code without spaces and dashes, lower-cased."""
    return re.sub(r"[\s-]", "", code).lower()


def is_totp_code(code: str) -> bool:
    """Say whether a normalised code has the shape of a TOTP code (six digits)."""
    return _TOTP_CODE_RE.fullmatch(code) is not None


def is_recovery_code(code: str) -> bool:
    """Say whether a normalised code has the shape of a recovery code."""
    return _RECOVERY_CODE_RE.fullmatch(code) is not None


def current_step(now: float | None = None) -> int:
    """Return the TOTP time step of ``now`` (epoch seconds; default: the clock)."""
    return int((time.time() if now is None else now) // STEP_SECONDS)


def totp_matching_step(
    secret: str, code: str, *, after_step: int = -1, now: float | None = None
) -> int | None:
    """Return the time step whose code ``code`` is, if later than ``after_step``; else None.

    Steps at or before ``after_step`` were used already: their codes are refused.
    """
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if candidate > after_step and constant_time_compare(totp.generate_otp(candidate), code):
            return candidate
    return None


def provisioning_uri(secret: str, *, account: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=settings.NEBULA_OTP_ISSUER
    )


def qr_svg_data_uri(text: str) -> str:
    """Return ``text`` as a QR code: an SVG ``data:`` URI for an ``<img>`` (no script, no style).

    Dark on white whatever the page's colour scheme: scanners need the contrast.
    """
    import segno  # staff pages only (see the docstring)

    return segno.make(text, error="m", micro=False).svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff"
    )


def grouped(text: str, size: int = 4) -> str:
    """Return ``text`` in groups of ``size`` characters, for reading and typing."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Return ``count`` new recovery codes, as shown to the person ("abcd-efgh-ijkl-mnop")."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(_RECOVERY_CODE_BYTES)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def recovery_code_hash(*, user_id: str, code: str) -> str:
    """Return what is stored for a recovery code: SHA-256 of the user id and the normalised code."""
    return hashlib.sha256(f"{user_id}\0{normalize_code(code)}".encode()).hexdigest()


def _fernet(material: str) -> "Fernet":
    # Staff pages only (see the module's docstring).
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"nebula.accounts.otp.secret"
    ).derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernets() -> list["Fernet"]:
    """Return the cipher of the current key first, then those of the old keys."""
    if settings.NEBULA_OTP_ENCRYPTION_KEY:
        keys = [settings.NEBULA_OTP_ENCRYPTION_KEY, *settings.NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS]
    else:
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [_fernet(key) for key in keys]


def encrypt_secret(secret: str) -> str:
    """Encrypt a TOTP secret under the current key."""
    return _fernets()[0].encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> tuple[str, bool]:
    """Decrypt a stored secret; also say whether it was under an old key (re-encrypt it).

    Raises :class:`UndecryptableSecretError` if no configured key opens it.
    """
    from cryptography.fernet import InvalidToken  # staff pages only

    for index, fernet in enumerate(_fernets()):
        try:
            return fernet.decrypt(token.encode()).decode(), index > 0
        except InvalidToken:
            continue
    raise UndecryptableSecretError("no configured key decrypts this second-factor secret")
