"""The user-import CSV format: the file, its header and each row's rules (Django-free).

One definition for every importer: the operators' ``manage.py importusers`` (small
sets), the staff's upload form and the bulk import job's worker (Lambda) all read a
file with :func:`read_import_file` and each row with :func:`parse_row`. Pure
functions: the format is tested without DynamoDB.

An export (``manage.py exportusers``) can be imported again: the import reads the
columns it needs and ignores the ones only an export has (ids, times), since an
import makes new accounts.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from .emails import InvalidEmailError, canonical_email
from .text import ONE_LINE_MESSAGE, is_one_line_text

DISPLAY_NAME_MAX_LENGTH = 80
# The bulk import job's limits: the site's upload form and the worker both enforce them
# (docs/jobs.md says why 50,000 rows). manage.py importusers has its own, smaller one.
JOB_MAX_BYTES = 10 * 1024 * 1024
JOB_MAX_ROWS = 50_000

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


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; nothing of it may be written.

    ``str()`` is the detail; :meth:`describe` puts it after the file's name.
    """

    template = "{name}: {detail}"

    def describe(self, name: str) -> str:
        """Say what is wrong with the file called ``name``, in one line."""
        return self.template.format(name=name, detail=self)


class HeaderError(ImportFileError):
    """The first line is not a header an import can use; the message says why."""

    template = "{name}: bad header: {detail}"


class EncodingError(ImportFileError):
    """The bytes are not UTF-8."""

    template = "{name} is not UTF-8: {detail}"


class CsvSyntaxError(ImportFileError):
    """The text is not CSV (an unclosed quote...)."""

    template = "{name} is not valid CSV: {detail}"


class TooManyRowsError(ImportFileError):
    """More rows than the importer takes."""

    template = "{name} has more than {detail} rows: split it into smaller files"


class RowError(ValueError):
    """One row cannot become an account; the message says why."""


@dataclass(frozen=True)
class NewUser:
    """One valid row: the account to create."""

    email: str
    display_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    email_verified: bool


Row = dict[str | None, str | list[str] | None]


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


def read_import_file(data: bytes, *, max_rows: int) -> list[tuple[int, Row]]:
    """Return (line number, row) for every non-blank row of a whole file.

    Raises an :class:`ImportFileError` (encoding, CSV syntax, header, too many
    rows) before any row is looked at, so a bad file is refused whole.
    """
    return list(_rows(data, max_rows=max_rows))


def check_import_file(data: bytes, *, max_rows: int) -> int:
    """Check a whole file as :func:`read_import_file` does; return its row count.

    Keeps no row in memory: the site's upload form checks files this way, so a
    web worker never holds tens of thousands of parsed rows.
    """
    return sum(1 for _ in _rows(data, max_rows=max_rows))


def _rows(data: bytes, *, max_rows: int) -> Iterator[tuple[int, Row]]:
    try:
        text = data.decode("utf-8-sig")  # a byte order mark, as spreadsheets write, is fine
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"byte 0x{data[exc.start]:02x} on line {line}; save it as UTF-8 CSV and try again"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    count = 0
    try:
        check_header(reader.fieldnames)
        for row in reader:
            if not any(value for value in row.values()):
                continue  # blank lines are no rows
            count += 1
            if count > max_rows:
                raise TooManyRowsError(str(max_rows))
            yield reader.line_num, row
    except csv.Error as exc:
        raise CsvSyntaxError(f"line {reader.line_num}: {exc}") from exc


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


def email_cell(row: Row) -> str:
    """Return the row's email cell as typed (for reports), or ''."""
    for name, value in row.items():
        if name is not None and name.strip() == "email" and isinstance(value, str):
            return value.strip()
    return ""


def parse_row(row: Row) -> NewUser:
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
    if not is_one_line_text(display_name):
        raise RowError("the display name: " + ONE_LINE_MESSAGE)
    flags = {name: parse_flag(name, cells.get(name)) for name in FLAG_DEFAULTS}  # type: ignore[arg-type]
    return NewUser(email=email, display_name=display_name, **flags)
