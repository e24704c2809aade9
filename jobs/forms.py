"""Forms of the jobs pages: each start button carries the idempotency key of its page.

The bulk import's upload form checks the file whole (size, encoding, CSV, header) with
the import's own rules (``datalayer.usercsv``) before anything is stored.
"""

import secrets
from typing import Any

from django import forms

from datalayer.usercsv import JOB_MAX_BYTES, JOB_MAX_ROWS, ImportFileError, check_import_file
from nebula.forms import NebulaForm


def new_idempotency_key() -> str:
    """Return a fresh key for one rendering of a start button (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


class StartJobForm(NebulaForm):
    """A start button: the key it was rendered with makes a double click one job."""

    idempotency_key = forms.RegexField(
        regex=r"\A[A-Za-z0-9_-]{16,64}\Z", widget=forms.HiddenInput, max_length=64
    )


# The bulk import's limits; the worker (lambdas/work/import_users.py) refuses more too.
IMPORT_MAX_BYTES = JOB_MAX_BYTES
IMPORT_MAX_ROWS = JOB_MAX_ROWS


class ImportUsersForm(StartJobForm):
    """A CSV of users to import, checked whole before it is stored (staff)."""

    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8, a header line naming the columns: email (required), display_name, "
            "is_active, is_staff, is_superuser, email_verified. At most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        """Refuse, as a field error, a file too big, not UTF-8, not CSV or with a bad header."""
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{IMPORT_MAX_BYTES // 1024 // 1024} MB. Split it into smaller files.",
                code="too_big",
            )
        data = upload.read()
        try:
            rows = check_import_file(data, max_rows=IMPORT_MAX_ROWS)
        except ImportFileError as exc:
            raise forms.ValidationError(
                exc.describe("This file") + ". Nothing was imported.", code="bad_file"
            ) from exc
        if rows == 0:
            raise forms.ValidationError("This file has no rows to import.", code="empty")
        self.cleaned_data["data"] = data
        self.cleaned_data["rows"] = rows
        return upload
