"""Accounts tables: users, email claims, sessions and second factors (docs/data-model.md).

The user is a PynamoDB model that quacks like Django's user where Django's auth
machinery looks (``is_authenticated``, ``pk``, ``get_session_auth_hash``,
``set_password``...), so ``logout``, ``update_session_auth_hash``,
``login_required``, the token generator and the password forms work unchanged.
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import FieldDoesNotExist
from django.utils.crypto import salted_hmac
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from datalayer.models import NebulaModel

from . import session_keys

_USER_ID_RE = re.compile(r"[0-9a-f]{32}")


def is_user_id(value: str) -> bool:
    """Say whether ``value`` is, as a whole, a user id (32 lower-case hex characters)."""
    return _USER_ID_RE.fullmatch(value) is not None


class _FieldLabels:
    """Just enough of ``Model._meta`` for Django's password similarity validator."""

    labels: ClassVar[dict[str, str]] = {"email": "email address", "display_name": "display name"}

    def get_field(self, name: str) -> Any:
        if name not in self.labels:
            raise FieldDoesNotExist(name)
        return type("Field", (), {"verbose_name": self.labels[name]})


class User(NebulaModel):
    """A person with an account."""

    class Meta:
        table_name = "users"

    id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    password = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    is_active = BooleanAttribute(default=True)
    is_staff = BooleanAttribute(default=False)
    is_superuser = BooleanAttribute(default=False)
    email_verified = BooleanAttribute(default=False)
    date_joined = UTCDateTimeAttribute()
    last_login = UTCDateTimeAttribute(null=True)
    # How many times the address changed: signed into mailed links, so a link
    # dies at the next change even if the address comes back (A→B→A).
    email_changes = NumberAttribute(default=0)
    # The avatar shown: the id of the job that made it (its sizes lie under
    # media/avatars/<id>/<job id>/, pictures.avatar), written by the avatar worker.
    avatar = UnicodeAttribute(null=True)
    # The latest upload's job while it runs; the worker makes it the avatar only if
    # it is still this one (a newer upload or a removal wins).
    avatar_pending = UnicodeAttribute(null=True)
    # Optimistic locking: every save checks and bumps it.
    version = VersionAttribute()

    EMAIL_FIELD = "email"
    is_authenticated = True
    is_anonymous = False
    _meta = _FieldLabels()

    @property
    def pk(self) -> str:
        return self.id

    @classmethod
    def get_email_field_name(cls) -> str:
        return cls.EMAIL_FIELD

    def get_username(self) -> str:
        return self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email

    def has_usable_password(self) -> bool:
        return bool(self.password) and not self.password.startswith("!")

    def __str__(self) -> str:
        return self.display_name or self.email

    def __eq__(self, other: object) -> bool:
        # Django's update_session_auth_hash compares request.user with the user.
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def set_password(self, raw_password: str | None) -> None:
        """Hash and keep ``raw_password``; None sets an unusable password."""
        self.password = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        """Check the password; never rehash here (writes belong in services)."""
        return check_password(raw_password, self.password)

    def get_session_auth_hash(self) -> str:
        """Return an HMAC of the password hash: sessions end when the password changes."""
        return self._get_session_auth_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        """Yield the hash under each of ``SECRET_KEY_FALLBACKS`` (a rotated secret)."""
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._get_session_auth_hash(secret=secret)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            self.password,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def can_start_jobs(self) -> bool:
        return self.is_active and self.email_verified

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_active and self.is_superuser

    def has_perms(self, perm_list: list[str], obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_superuser


class EmailClaim(NebulaModel):
    """Makes an email address unique: written in one transaction with the user."""

    class Meta:
        table_name = "email-claims"

    # Trimmed and lower-cased: "unique" means case-insensitively.
    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SessionsByUser(GlobalSecondaryIndex):
    """Every session of one user: the sessions page and "sign out everywhere"."""

    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)


class Session(NebulaModel):
    """One browser session; anonymous ones have no ``user_id`` and stay out of the index."""

    class Meta:
        table_name = "sessions"

    # A keyed hash of the session key (accounts.session_keys): never the key.
    id = UnicodeAttribute(hash_key=True, attr_name="key")
    data = UnicodeAttribute()
    # DynamoDB deletes expired sessions only eventually: every read checks this too.
    expires = TTLAttribute()
    user_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    last_seen = UTCDateTimeAttribute()
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    by_user = SessionsByUser()

    @property
    def public_id(self) -> str:
        """Name the session in pages and forms without revealing its key."""
        return session_keys.public_id(self.id)


# --- The session list: one item per signed-in user in the sessions table -----------
#
# Not a PynamoDB model: the model registry holds one model per table, and the item
# is read and written with the raw client anyway (it joins the page's one
# BatchGetItem and the session writes' transactions). Its key can never be a
# session's (those are 64 hex characters), and it has no ``user_id``, so it stays
# out of the ``by-user`` index. Each session is one top-level attribute,
# ``s_<stored id>``, whose value is compact JSON (a string: cheap for botocore to
# parse): setting or removing one is ``SET #e = :v`` / ``REMOVE #e``, which
# also works on an item that does not exist yet.

SESSION_LIST_PREFIX = "list."
SESSION_ENTRY_PREFIX = "s_"
# Live entries kept per user; signing in beyond it ends the least recently seen sessions.
SESSION_LIST_CAP = 50


def session_list_key(user_id: str) -> str:
    """Return the sessions table key of the user's session list."""
    return f"{SESSION_LIST_PREFIX}{user_id}"


def is_session_list_key(key: str) -> bool:
    """Say whether a sessions table key is a session list's (not a session's)."""
    return key.startswith(SESSION_LIST_PREFIX)


def session_entry_name(stored_id: str) -> str:
    """Return the attribute that holds the entry of the session stored under ``stored_id``."""
    return f"{SESSION_ENTRY_PREFIX}{stored_id}"


def _stamp(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def _moment(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, tz=UTC)


@dataclass(frozen=True)
class SessionEntry:
    """What the sessions page shows of one session, as its user's session list holds it."""

    stored_id: str
    device: str
    ip: str | None
    created: datetime
    last_seen: datetime
    expires: datetime

    @property
    def public_id(self) -> str:
        return session_keys.public_id(self.stored_id)

    def encode(self) -> str:
        """Return the entry's attribute value: compact JSON."""
        return json.dumps(
            {
                "d": self.device,
                "i": self.ip,
                "c": _stamp(self.created),
                "l": _stamp(self.last_seen),
                "e": int(self.expires.timestamp()),
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, stored_id: str, value: str) -> "SessionEntry":
        """Parse an attribute value made by :meth:`encode`."""
        data = json.loads(value)
        return cls(
            stored_id=stored_id,
            device=data["d"],
            ip=data["i"],
            created=_moment(data["c"]),
            last_seen=_moment(data["l"]),
            expires=_moment(data["e"]),
        )


def session_entries_decode(item: Mapping[str, Any]) -> list["SessionEntry"]:
    """Parse a session list item as the low-level client returns it (expired entries too)."""
    return [
        SessionEntry.decode(name[len(SESSION_ENTRY_PREFIX) :], value["S"])
        for name, value in item.items()
        if name.startswith(SESSION_ENTRY_PREFIX)
    ]


class SecondFactor(NebulaModel):
    """A staff member's TOTP second factor and recovery codes (``accounts.otp``)."""

    class Meta:
        table_name = "second-factors"

    user_id = UnicodeAttribute(hash_key=True)
    # Fernet token of the base32 secret: never the secret itself.
    secret = UnicodeAttribute()
    # False from enrolment until the first code is confirmed: not yet a factor.
    confirmed = BooleanAttribute(default=False)
    # SHA-256 of each unused recovery code; a use removes one (an atomic DELETE).
    recovery_codes = UnicodeSetAttribute(null=True)
    # The last TOTP time step used: its code and earlier ones are refused (replay).
    last_step = NumberAttribute(default=-1)
    created = UTCDateTimeAttribute()
    confirmed_at = UTCDateTimeAttribute(null=True)
    last_used = UTCDateTimeAttribute(null=True)

    @property
    def recovery_codes_left(self) -> int:
        return len(self.recovery_codes or ())
