"""Bulk user import (staff): a CSV of users, checked row by row, written in batches.

The site stored the uploaded file in the private media bucket under
``imports/<job id>.csv`` (the job's ``params["file_key"]``) after checking its size,
encoding and header. This function does not trust that: it reads and checks the
whole file again (the same rules as ``manage.py importusers``,
``datalayer.usercsv``) before writing anything, so a bad file fails the job with a
readable reason and nothing written.

Then each row is **created**, **skipped** (its address has an account, or appears on
an earlier line: nothing is changed) or **rejected** (with the reason). Accounts are
written in batches (``datalayer.users``: a consistent ``BatchGetItem`` of the
claims, then conditional ``TransactWriteItems``), so an address is never
overwritten and importing the same file twice creates nothing the second time.
Imported accounts get an unusable password: their owners use "Forgot your
password?".

The result is a CSV report in the bucket, ``imports/<job id>-report.csv``: one line
per row of the file (``line, email, outcome, reason``), offered on the job's page.
"""

import csv
import io
from typing import Any

from datalayer.emails import email_key
from datalayer.jobs import Job
from datalayer.usercsv import (
    JOB_MAX_BYTES,
    JOB_MAX_ROWS,
    ImportFileError,
    NewUser,
    RowError,
    email_cell,
    parse_row,
    read_import_file,
)
from datalayer.users import claimed_emails, users_create

from .. import settings
from .base import JobError, Progress
from .export import media_client

# What the site accepts (jobs.forms): the worker refuses more, whatever was stored.
MAX_BYTES = JOB_MAX_BYTES
MAX_ROWS = JOB_MAX_ROWS
# Rows checked against the claims and written per step (one progress report each).
BATCH_ROWS = 100
REPORT_COLUMNS = ("line", "email", "outcome", "reason")
CREATED, SKIPPED, REJECTED = "created", "skipped", "rejected"
# A cell a spreadsheet would run as a formula starts with one of these.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_key(job: Job) -> str:
    """Return where the job's report is stored in the media bucket."""
    return f"imports/{job.id}-report.csv"


def _read_file(job: Job) -> bytes:
    key = (job.params or {}).get("file_key")
    if not key:
        raise JobError("This import has no file. Upload the file again.")
    try:
        answer = media_client().get_object(Bucket=settings.media_bucket(), Key=key)
    except media_client().exceptions.NoSuchKey as exc:
        raise JobError("The uploaded file is gone. Upload it again.") from exc
    if answer["ContentLength"] > MAX_BYTES:
        raise JobError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return answer["Body"].read()


def _safe(text: str) -> str:
    # A report opened in a spreadsheet must not run a formula someone typed in a cell.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def build_report(outcomes: list[dict[str, Any]]) -> bytes:
    """Return the report: one line per row, in the file's order, as UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    for outcome in outcomes:
        writer.writerow(
            {name: _safe(str(value)) for name, value in outcome.items() if name in REPORT_COLUMNS}
        )
    return out.getvalue().encode("utf-8")


def summary(outcomes: list[dict[str, Any]]) -> str:
    """Return the counts in words: "12 created, 2 skipped, 1 rejected."."""
    counts = dict.fromkeys((CREATED, SKIPPED, REJECTED), 0)
    for outcome in outcomes:
        counts[outcome["outcome"]] += 1
    return f"{counts[CREATED]} created, {counts[SKIPPED]} skipped, {counts[REJECTED]} rejected."


def check_rows(
    rows: list[tuple[int, dict]],
) -> tuple[list[dict[str, Any]], list[tuple[int, NewUser]]]:
    """Check every row on its own; return each row's outcome so far and the valid new ones.

    Rejected rows and addresses repeated from an earlier line get their outcome
    now; the valid ones are left for :func:`import_rows` to create or skip.
    """
    outcomes: list[dict[str, Any]] = []
    valid: list[tuple[int, NewUser]] = []
    first_line: dict[str, int] = {}
    for position, (line, row) in enumerate(rows):
        try:
            new = parse_row(row)
        except RowError as exc:
            outcomes.append(
                {"line": line, "email": email_cell(row), "outcome": REJECTED, "reason": str(exc)}
            )
            continue
        key = email_key(new.email)
        if key in first_line:
            reason = f"already appears on line {first_line[key]}"
            outcomes.append(
                {"line": line, "email": new.email, "outcome": SKIPPED, "reason": reason}
            )
            continue
        first_line[key] = line
        outcomes.append({"line": line, "email": new.email, "outcome": None, "reason": ""})
        valid.append((position, new))
    return outcomes, valid


def import_rows(
    outcomes: list[dict[str, Any]], valid: list[tuple[int, NewUser]], progress: Progress
) -> None:
    """Create or skip each valid row, a batch at a time, filling in its outcome."""
    for start in range(0, len(valid), BATCH_ROWS):
        batch = valid[start : start + BATCH_ROWS]
        taken = claimed_emails(email_key(new.email) for _, new in batch)
        fresh = [(position, new) for position, new in batch if email_key(new.email) not in taken]
        for position, new in batch:
            if email_key(new.email) in taken:
                outcomes[position].update(outcome=SKIPPED, reason="already has an account")
        created = users_create([new for _, new in fresh])
        for (position, _), made in zip(fresh, created, strict=True):
            if made:
                outcomes[position].update(outcome=CREATED)
            else:
                outcomes[position].update(outcome=SKIPPED, reason="already has an account")
        done = min(start + BATCH_ROWS, len(valid))
        progress(10 + 80 * done // len(valid), f"Imported {done} of {len(valid)} valid rows")


def run(job: Job, progress: Progress) -> tuple[str, str]:
    """Import the job's file; store the report; return its key and the counts."""
    progress(5, "Reading the file")
    data = _read_file(job)
    try:
        rows = read_import_file(data, max_rows=MAX_ROWS)
    except ImportFileError as exc:
        raise JobError(exc.describe("The file") + ". Nothing was imported.") from exc
    outcomes, valid = check_rows(rows)
    import_rows(outcomes, valid, progress)
    progress(95, "Writing the report")
    key = report_key(job)
    media_client().put_object(
        Bucket=settings.media_bucket(),
        Key=key,
        Body=build_report(outcomes),
        ContentType="text/csv; charset=utf-8",
        ContentDisposition='attachment; filename="nebula-import-report.csv"',
    )
    return key, summary(outcomes)
