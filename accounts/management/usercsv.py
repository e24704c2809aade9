"""The CSV format of ``exportusers`` and ``importusers``: columns, rows, checks.

The import's rules (header, rows, the whole file) are the data layer's
(``datalayer.usercsv``, Django-free), shared with the bulk import job's worker;
this module adds what only the export needs. Pure functions, so the format is
tested without DynamoDB. An export can be imported again: the import reads the
columns it needs and ignores the ones only an export has (ids, times), since an
import makes new accounts.
"""

from datetime import datetime

from accounts.models import User
from datalayer.usercsv import (
    FLAG_DEFAULTS,
    IGNORED_COLUMNS,
    IMPORT_COLUMNS,
    EncodingError,
    HeaderError,
    ImportFileError,
    NewUser,
    RowError,
    TooManyRowsError,
    check_header,
    parse_flag,
    parse_row,
    read_import_file,
)

__all__ = [
    "EXPORT_COLUMNS",
    "FLAG_DEFAULTS",
    "IGNORED_COLUMNS",
    "IMPORT_COLUMNS",
    "EncodingError",
    "HeaderError",
    "ImportFileError",
    "NewUser",
    "RowError",
    "TooManyRowsError",
    "check_header",
    "export_row",
    "parse_flag",
    "parse_row",
    "read_import_file",
]

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
