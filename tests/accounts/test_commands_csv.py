"""``manage.py exportusers`` and ``importusers``: CSV in and out, row by row, safe to repeat."""

import csv
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import selectors, services
from accounts.management.usercsv import EXPORT_COLUMNS
from accounts.models import User
from datalayer.calls import counting_calls
from tests.accounts.conftest import PASSWORD, log_in
from tests.support import ROOT, manage


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _command(name: str, *args: str, stdout: io.StringIO | None = None) -> str:
    out = stdout if stdout is not None else io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _all_users() -> list[User]:
    return list(User.scan())


def _csv(tmp_path: Path, text: str, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "email,display_name,is_active,is_staff,is_superuser,email_verified\n"
    "ann@example.com,Ann,true,false,false,true\n"
    "BOB@Example.COM,Bob,,yes,,\n"
)


# --- exportusers -----------------------------------------------------------------------


def test_export_to_stdout_has_the_documented_columns_and_no_password(make_user) -> None:
    ann = make_user(email="ann@example.com", display_name='Ann, "the" first', email_verified=True)

    rows = list(csv.reader(io.StringIO(_command("exportusers"))))

    assert rows[0] == list(EXPORT_COLUMNS)
    assert rows[1][:7] == [
        ann.id,
        "ann@example.com",
        'Ann, "the" first',
        "true",
        "false",
        "false",
        "true",
    ]
    assert rows[1][7] == ann.date_joined.isoformat()
    assert rows[1][8] == ""  # never signed in
    assert "argon2" not in "".join(rows[1])


def test_export_to_a_file_twice_replaces_it_and_leaves_no_temporary_file(
    tmp_path, make_user
) -> None:
    make_user(email="ann@example.com")
    target = tmp_path / "users.csv"

    first = _command("exportusers", "--output", str(target))
    make_user(email="bob@example.com")
    second = _command("exportusers", "--output", str(target))

    assert first == f"Exported 1 user to {target}.\n"
    assert second == f"Exported 2 users to {target}.\n"
    assert len(target.read_text().splitlines()) == 3
    assert [path.name for path in tmp_path.iterdir()] == ["users.csv"]


def test_export_into_a_missing_directory_exits_1_in_one_line(tmp_path) -> None:
    result = manage("exportusers", "-o", str(tmp_path / "nowhere" / "users.csv"))

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"CommandError: cannot write {tmp_path / 'nowhere' / 'users.csv'}: "
        f"directory {tmp_path / 'nowhere'} does not exist"
    )


def test_export_onto_a_directory_exits_1_in_one_line_and_leaves_nothing(tmp_path) -> None:
    (tmp_path / "users.csv").mkdir()

    with pytest.raises(CommandError, match=r"^cannot write .*users.csv: Is a directory$"):
        _command("exportusers", "-o", str(tmp_path / "users.csv"))

    assert [path.name for path in tmp_path.iterdir()] == ["users.csv"]


@pytest.mark.parametrize(
    ("command", "says"),
    [("exportusers", "no password hashes"), ("importusers", "new accounts get no password")],
)
def test_help_says_what_the_csv_holds(command, says) -> None:
    result = manage(command, "--help")

    assert result.returncode == 0
    assert says in " ".join(result.stdout.split())


def test_export_as_manage_py_writes_csv_to_stdout(make_user) -> None:
    make_user(email="ann@example.com")

    result = manage("exportusers")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert result.stdout.splitlines()[1].split(",")[1] == "ann@example.com"


def test_export_reads_the_table_page_by_page(monkeypatch, make_user) -> None:
    for number in range(5):
        make_user(email=f"user{number}@example.com")
    monkeypatch.setattr(selectors, "USER_SCAN_PAGE_SIZE", 2)

    with counting_calls() as calls:
        rows = list(csv.reader(io.StringIO(_command("exportusers"))))

    assert len(rows) == 6
    assert calls.operations.count("Scan") >= 3


# --- importusers -----------------------------------------------------------------------


def test_import_creates_accounts_with_canonical_addresses_and_flags(tmp_path) -> None:
    out = _command("importusers", str(_csv(tmp_path, GOOD)))

    assert out.splitlines() == ["2 created, 0 skipped (already exists), 0 rejected."]
    ann = selectors.user_get_by_email(email="ann@example.com")
    bob = selectors.user_get_by_email(email="bob@example.com")
    assert (ann.display_name, ann.is_active, ann.is_staff, ann.email_verified) == (
        "Ann",
        True,
        False,
        True,
    )
    assert bob.email == "BOB@example.com"  # the domain canonical, the local part as typed
    assert (bob.is_staff, bob.is_active, bob.email_verified) == (True, True, False)


def test_imported_accounts_cannot_sign_in_until_their_owner_resets_the_password(
    tmp_path,
) -> None:
    _command("importusers", str(_csv(tmp_path, GOOD)))
    ann = selectors.user_get_by_email(email="ann@example.com")

    assert not ann.has_usable_password()
    assert log_in(Client(), email="ann@example.com", password=PASSWORD).status_code == 200
    Client().post("/accounts/password/reset/", {"email": "ann@example.com"})
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]


def test_importing_the_same_file_twice_creates_nothing_the_second_time(tmp_path) -> None:
    path = _csv(tmp_path, GOOD)
    _command("importusers", str(path))
    before = {user.id: user.version for user in _all_users()}

    out = _command("importusers", str(path))

    assert out.splitlines() == [
        "line 2: skipped: ann@example.com already has an account",
        "line 3: skipped: BOB@example.com already has an account",
        "0 created, 2 skipped (already exists), 0 rejected.",
    ]
    assert {user.id: user.version for user in _all_users()} == before


def test_import_reports_each_bad_row_with_its_reason_and_imports_the_rest(tmp_path) -> None:
    path = _csv(
        tmp_path,
        "email,display_name,is_staff\n"
        "ann@example.com,Ann,\n"
        "not an address,X,\n"
        "ANN@example.com,Ann again,\n"
        'bob@example.com,"Bob\u202eevil",\n'
        "cid@example.com,Cid,maybe\n"
        ",No address,\n"
        "dee@example.com,Dee,,extra\n"
        f"eve@example.com,{'e' * 81},\n"
        "fay@example.com,Fay,false\n",
    )

    with pytest.raises(CommandError) as failed:
        _command("importusers", str(path), stdout=(out := io.StringIO()))

    assert out.getvalue().splitlines() == [
        "line 3: rejected: 'not an address': Enter a valid email address.",
        "line 4: skipped: ANN@example.com already appears on line 2",
        "line 5: rejected: the display name: Use letters, digits, spaces and punctuation only: "
        "no line breaks, tabs or other control characters.",
        "line 6: rejected: is_staff must be true or false, not 'maybe'",
        "line 7: rejected: the email cell is empty",
        "line 8: rejected: the row has more cells than the header",
        "line 9: rejected: the display name is longer than 80 characters",
        "2 created, 1 skipped (already exists), 6 rejected.",
    ]
    assert str(failed.value) == (
        "6 rows rejected (line 3, 5, 6, 7, 8, 9); fix them and import the file again: "
        "rows already imported will be skipped"
    )
    assert sorted(user.email for user in _all_users()) == ["ann@example.com", "fay@example.com"]


def test_import_dry_run_says_what_would_happen_and_writes_nothing(tmp_path, make_user) -> None:
    make_user(email="ann@example.com")

    out = _command("importusers", "--dry-run", "-v", "2", str(_csv(tmp_path, GOOD)))

    assert out.splitlines() == [
        "line 2: skipped: ann@example.com already has an account",
        "line 3: would create BOB@example.com",
        "Dry run: 1 would be created, 1 skipped (already exists), 0 rejected. Nothing was written.",
    ]
    assert selectors.user_get_by_email(email="bob@example.com") is None


def test_an_export_imports_as_it_is(tmp_path, make_user) -> None:
    make_user(email="ann@example.com", display_name="Ann", is_staff=True)
    path = tmp_path / "export.csv"
    _command("exportusers", "-o", str(path))
    services.user_delete(user=selectors.user_get_by_email(email="ann@example.com"))

    out = _command("importusers", str(path))

    assert out.splitlines() == ["1 created, 0 skipped (already exists), 0 rejected."]
    assert selectors.user_get_by_email(email="ann@example.com").is_staff


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "bad header: the file is empty: the first line must name the columns"),
        (b"mail,name\nann@example.com,Ann\n", "bad header: unknown column 'mail', 'name'"),
        (b"display_name\nAnn\n", "bad header: the header has no email column"),
        (b"email,email\nann@example.com,x\n", "bad header: column email appears more than once"),
        (b"email\nann@example.com\nbob@\xe9xample.com\n", "is not UTF-8: byte 0xe9 on line 3"),
        (b'email\n"ann@example.com\n', "is not valid CSV"),
    ],
    ids=["empty", "unknown-columns", "no-email", "duplicate", "latin-1", "unclosed-quote"],
)
def test_a_bad_file_is_refused_in_one_line_and_nothing_is_written(
    tmp_path, content, message
) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        _command("importusers", str(path))

    assert _all_users() == []


def test_a_byte_order_mark_as_spreadsheets_write_is_fine(tmp_path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"\xef\xbb\xbfemail\nann@example.com\n")

    _command("importusers", str(path))

    assert selectors.user_get_by_email(email="ann@example.com") is not None


def test_import_exit_statuses_as_manage_py(tmp_path) -> None:
    good = _csv(tmp_path, GOOD)
    bad_header = _csv(tmp_path, "mail\nann@example.com\n", name="bad.csv")

    created = manage("importusers", str(good))
    again = manage("importusers", str(good))
    refused = manage("importusers", str(bad_header))
    missing = manage("importusers", str(tmp_path / "missing.csv"))

    assert created.returncode == 0, created.stderr
    assert again.returncode == 0
    assert "0 created, 2 skipped (already exists), 0 rejected." in again.stdout
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith(
        f"CommandError: {bad_header}: bad header: unknown column 'mail'"
    )
    assert len(refused.stderr.strip().splitlines()) == 1
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"CommandError: {tmp_path / 'missing.csv'}: no such file"


def test_import_with_a_rejected_row_exits_1_after_importing_the_rest(tmp_path) -> None:
    path = _csv(tmp_path, "email\nann@example.com\nnope\n")

    result = manage("importusers", str(path))

    assert result.returncode == 1
    assert "line 3: rejected: 'nope': Enter a valid email address." in result.stdout
    assert result.stderr.strip().splitlines() == [
        "CommandError: 1 row rejected (line 3); fix them and import the file again: "
        "rows already imported will be skipped"
    ]
    assert selectors.user_get_by_email(email="ann@example.com") is not None


def test_the_progress_bar_shows_only_on_a_terminal(tmp_path) -> None:
    path = _csv(tmp_path, GOOD)
    terminal = _Terminal()

    _command("importusers", "--dry-run", str(path), stdout=terminal)
    plain = _command("importusers", "--dry-run", str(path))

    assert "\r[" in terminal.getvalue()
    assert "2/2" in terminal.getvalue()
    assert "\r" not in plain
    assert "[" not in plain


def test_the_progress_bar_draws_on_a_real_terminal_and_never_in_a_pipe(tmp_path) -> None:
    path = _csv(tmp_path, GOOD)
    leader, follower = pty.openpty()
    try:
        subprocess.run(
            [sys.executable, "manage.py", "importusers", str(path)],
            cwd=ROOT,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=True,
        )
        on_terminal = os.read(leader, 65536).decode()
    finally:
        os.close(follower)
        os.close(leader)
    in_a_pipe = manage("importusers", str(path))

    assert "\r[" in on_terminal
    assert "2/2" in on_terminal
    assert "2 created, 0 skipped (already exists), 0 rejected." in on_terminal
    assert in_a_pipe.returncode == 0
    assert "[" not in in_a_pipe.stdout
    assert "\r" not in in_a_pipe.stdout
