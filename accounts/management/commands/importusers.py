"""``manage.py importusers FILE.csv``: create accounts from a CSV file (small sets).

The header names the columns (``accounts.management.usercsv``): ``email``
(required), ``display_name``, ``is_active``, ``is_staff``, ``is_superuser``,
``email_verified``; an export's ``id``, ``date_joined`` and ``last_login`` are
accepted and ignored, so an export imports as it is. Each row is checked on its
own: it is **created**, **skipped** (the address already has an account, or
appears earlier in the file) or **rejected** (with the reason); one line per
skipped or rejected row, then a summary. Importing the same file twice creates
nothing the second time.

New accounts get an unusable password: their owners set one with "Forgot your
password?", which mails a link to the imported address (no password travels in
a CSV file). The whole file is read and decoded before anything is written: a
file that is not UTF-8 or has a bad header changes nothing. Over
``MAX_ROWS`` rows is refused: large imports belong to a background job.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services
from accounts.management.usercsv import (
    IGNORED_COLUMNS,
    IMPORT_COLUMNS,
    ImportFileError,
    RowError,
    parse_row,
    read_import_file,
)
from nebula.audit import operator_id
from nebula.email_addresses import email_key
from nebula.management.dynamodb import unreachable_as_command_error
from nebula.management.progress import ProgressBar

MAX_ROWS = 10_000
# What happened to a row.
CREATED, SKIPPED, REJECTED = "created", "skipped", "rejected"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        f"Create user accounts from a CSV file (UTF-8, at most {MAX_ROWS} rows). Columns: "
        f"{', '.join(IMPORT_COLUMNS)} (email required; an export's "
        f"{', '.join(IGNORED_COLUMNS)} are ignored). Existing addresses are skipped, invalid "
        "rows rejected with the reason; new accounts get no password (their owners reset it)."
    )

    _bar: ProgressBar

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", metavar="FILE", help="The CSV file to read.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and say what would happen; write nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        rows = self._read(path)
        dry_run = options["dry_run"]
        counts = dict.fromkeys((CREATED, SKIPPED, REJECTED), 0)
        rejected: list[int] = []
        first_line: dict[str, int] = {}
        bar = self._bar = ProgressBar(self.stdout, len(rows))
        self._operator = operator_id()
        with unreachable_as_command_error():
            for done, (line, row) in enumerate(rows):
                bar.update(done)
                outcome, detail = self._import_row(line, row, first_line, dry_run=dry_run)
                counts[outcome] += 1
                if outcome == REJECTED:
                    rejected.append(line)
                if outcome != CREATED or options["verbosity"] >= 2:
                    bar.clear()
                    self.stdout.write(f"line {line}: {detail}")
            bar.update(len(rows))
            bar.clear()
        verb = "would be created" if dry_run else "created"
        summary = (
            f"{counts[CREATED]} {verb}, {counts[SKIPPED]} skipped (already exists), "
            f"{counts[REJECTED]} rejected."
        )
        self.stdout.write(f"Dry run: {summary} Nothing was written." if dry_run else summary)
        if rejected:
            raise CommandError(
                f"{_plural(len(rejected), 'row')} rejected (line "
                f"{', '.join(map(str, rejected[:10]))}{', ...' if len(rejected) > 10 else ''}); "
                "fix them and import the file again: rows already imported will be skipped"
            )

    def _read(self, path: Path) -> list[tuple[int, dict]]:
        """Return (line number, row) for every row; raise CommandError on a bad file."""
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file") from exc
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            return read_import_file(data, max_rows=MAX_ROWS)
        except ImportFileError as exc:
            raise CommandError(exc.describe(str(path))) from exc

    def _import_row(
        self, line: int, row: dict, first_line: dict[str, int], *, dry_run: bool
    ) -> tuple[str, str]:
        """Import one row; return what happened to it and the line that reports it."""
        try:
            new = parse_row(row)
        except RowError as exc:
            return REJECTED, f"rejected: {exc}"
        key = email_key(new.email)
        if key in first_line:
            return SKIPPED, f"skipped: {new.email} already appears on line {first_line[key]}"
        first_line[key] = line
        if selectors.user_get_by_email(email=new.email) is not None:
            return SKIPPED, f"skipped: {new.email} already has an account"
        if dry_run:
            return CREATED, f"would create {new.email}"
        self._bar.clear()  # the service logs the import: on a new line, not after the bar
        try:
            services.user_import(
                operator=self._operator,
                email=new.email,
                display_name=new.display_name,
                is_active=new.is_active,
                is_staff=new.is_staff,
                is_superuser=new.is_superuser,
                email_verified=new.email_verified,
            )
        except services.EmailTakenError:
            return SKIPPED, f"skipped: {new.email} already has an account"
        return CREATED, f"created {new.email}"
