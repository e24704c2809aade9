"""The CSV format of ``exportusers`` and ``importusers``: columns, rows, checks.

Pure functions, so the format is tested without DynamoDB. An export can be
imported again: the import reads the columns it needs and ignores the ones only
an export has (ids, times), since an import makes new accounts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError

from accounts.forms import DISPLAY_NAME_MAX_LENGTH
from accounts.models import User
from nebula.email_addresses import InvalidEmailError, canonical_email
from nebula.validators import validate_one_line_text

# What an export writes, in this order. No password hash, ever.
EXPORT_COLUMNS = (
    "id",
    "email",
    "display_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "email_verified",
    "date_joined",
    "last_login",
)
# Flags an import reads, with their value when the column or the cell is empty.
FLAG_DEFAULTS = {
    "is_active": True,
    "is_staff": False,
    "is_superuser": False,
    "email_verified": False,
}
IMPORT_COLUMNS = ("email", "display_name", *FLAG_DEFAULTS)
# Columns of an export that an import accepts and ignores: a new account gets its own.
IGNORED_COLUMNS = ("id", "date_joined", "last_login")

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class HeaderError(ValueError):
    """The first line is not a header an import can use; the message says why."""


class RowError(ValueError):
    """One row cannot become an account; the message says why."""


@dataclass(frozen=True)
class NewUser:
    """One valid row: what ``services.user_import`` is called with."""

    email: str
    display_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    email_verified: bool


def check_header(columns: list[str] | None) -> None:
    """Raise ``HeaderError`` unless ``columns`` is a header an import can read."""
    if not columns:
        raise HeaderError("the file is empty: the first line must name the columns")
    names = [name.strip() for name in columns]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise HeaderError(f"column {', '.join(duplicates)} appears more than once")
    unknown = [name for name in names if name not in IMPORT_COLUMNS + IGNORED_COLUMNS]
    if unknown:
        raise HeaderError(
            f"unknown column {', '.join(repr(name) for name in unknown)}; "
            f"the columns are {', '.join(IMPORT_COLUMNS)} (and an export's "
            f"{', '.join(IGNORED_COLUMNS)}, ignored)"
        )
    if "email" not in names:
        raise HeaderError("the header has no email column")


def parse_flag(name: str, value: str | None) -> bool:
    """Read a flag cell: true/false, yes/no or 1/0 (any case); empty means the default."""
    text = (value or "").strip().lower()
    if not text:
        return FLAG_DEFAULTS[name]
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"{name} must be true or false, not {value.strip()!r}")


def parse_row(row: dict[str | None, str | list[str] | None]) -> NewUser:
    """Return the account a row describes, or raise ``RowError`` saying why it cannot be one.

    ``row`` is what ``csv.DictReader`` gives: cells beyond the header come under
    the key None, missing cells as None.
    """
    if row.get(None):
        raise RowError("the row has more cells than the header")
    cells = {(name or "").strip(): value for name, value in row.items() if name is not None}
    if any(value is None for value in cells.values()):
        raise RowError("the row has fewer cells than the header")
    email = str(cells.get("email") or "").strip()
    if not email:
        raise RowError("the email cell is empty")
    try:
        email = canonical_email(email)
    except InvalidEmailError as exc:
        raise RowError(f"{email!r}: {exc}") from exc
    display_name = str(cells.get("display_name") or "").strip()
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        raise RowError(f"the display name is longer than {DISPLAY_NAME_MAX_LENGTH} characters")
    try:
        validate_one_line_text(display_name)
    except ValidationError as exc:
        raise RowError("the display name: " + " ".join(exc.messages)) from exc
    flags = {name: parse_flag(name, cells.get(name)) for name in FLAG_DEFAULTS}
    return NewUser(email=email, display_name=display_name, **flags)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _time(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def export_row(user: User) -> list[str]:
    """Return the cells of ``user`` in ``EXPORT_COLUMNS`` order."""
    return [
        user.id,
        user.email,
        user.display_name,
        _flag(user.is_active),
        _flag(user.is_staff),
        _flag(user.is_superuser),
        _flag(user.email_verified),
        _time(user.date_joined),
        _time(user.last_login),
    ]
