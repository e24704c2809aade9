"""``manage.py exportusers``: every account as CSV, to a file or to stdout.

Columns (``accounts.management.usercsv.EXPORT_COLUMNS``): id, email,
display_name, is_active, is_staff, is_superuser, email_verified (``true`` /
``false``), date_joined, last_login (ISO 8601, UTC; empty: never). Never a
password hash. The users are read page by page (``selectors.user_list``), so
memory stays small however many there are. A file is written beside its final
name and renamed into place at the end: an interrupted export leaves no half
file, and running it again replaces the file.
"""

import csv
import os
import tempfile
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from accounts import selectors
from accounts.management.usercsv import EXPORT_COLUMNS, export_row
from nebula.management.dynamodb import unreachable_as_command_error
from nebula.management.progress import ProgressBar


class Command(BaseCommand):
    help = (
        f"Write every user account as CSV (UTF-8; columns: {', '.join(EXPORT_COLUMNS)}; "
        "no password hashes) to a file, or to stdout."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "-o",
            "--output",
            metavar="PATH",
            help="Write to this file (replaced if it exists) instead of stdout.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            if options["output"] is None:
                self._write(self.stdout, progress=False)
                return
            path = Path(options["output"])
            count = self._write_file(path)
            if options["verbosity"] >= 1:
                self.stdout.write(f"Exported {count} user{'' if count == 1 else 's'} to {path}.")

    def _write_file(self, path: Path) -> int:
        directory = path.parent
        if not directory.is_dir():
            raise CommandError(f"cannot write {path}: directory {directory} does not exist")
        try:
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                count = self._write(out, progress=True)
            Path(temporary).replace(path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return count

    def _write(self, out: TextIO, *, progress: bool) -> int:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        # A Scan knows no total before its end: the bar counts what is written.
        bar = ProgressBar(self.stdout, None) if progress else None
        count = 0
        cursor = None
        while True:
            page = selectors.user_list(limit=selectors.USER_SCAN_PAGE_SIZE, cursor=cursor)
            for user in page.users:
                writer.writerow(export_row(user))
            count += len(page.users)
            if bar is not None:
                bar.update(count)
            cursor = page.cursor
            if cursor is None:
                break
        if bar is not None:
            bar.clear()
        return count
