"""``manage.py users``: find, list, deactivate, reactivate and end sessions, as operators do.

Most runs go through ``call_command``; each exit status is also checked once with
a real ``manage.py`` against the moto server.
"""

import builtins
import io
import os
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import selectors
from datalayer.calls import counting_calls
from tests.accounts.conftest import log_in
from tests.support import manage


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _users(*args: str) -> str:
    out = io.StringIO()
    call_command("users", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _signed_in(email: str = "ann@example.com") -> Client:
    browser = Client()
    assert log_in(browser, email=email).status_code == 302
    return browser


def _is_signed_in(browser: Client) -> bool:
    return browser.get("/accounts/profile/").status_code == 200


# --- find ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ann@example.com", "ANN@Example.com", "id"])
def test_find_shows_one_account_by_address_or_id(user, name) -> None:
    _signed_in()

    out = _users("find", user.id if name == "id" else name)

    assert f"id:             {user.id}" in out
    assert "email:          ann@example.com" in out
    assert "display name:   Ann" in out
    assert "active:         yes" in out
    assert "password:       set" in out
    assert "live sessions:  1" in out


def test_find_an_unknown_user_says_so_in_one_line() -> None:
    with pytest.raises(CommandError, match=r"^no user with email address 'nobody@example.com'$"):
        _users("find", "nobody@example.com")
    with pytest.raises(CommandError, match=r"^no user with id '0{32}'$"):
        _users("find", "0" * 32)


def test_find_an_unknown_user_exits_1_with_one_line_on_stderr() -> None:
    result = manage("users", "find", "nobody@example.com")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: no user with email address 'nobody@example.com'"
    ]
    assert result.stdout == ""


# --- list ------------------------------------------------------------------------------


def test_list_shows_every_account_with_its_flags(make_user) -> None:
    ann = make_user(email="ann@example.com", email_verified=True)
    boss = make_user(email="boss@example.com", is_staff=True, is_superuser=True)

    lines = _users("list").splitlines()

    assert sorted(lines[:-1]) == sorted(
        [
            f"{ann.id}  ann@example.com  -",
            f"{boss.id}  boss@example.com  staff,superuser,unverified",
        ]
    )
    assert lines[-1] == "(2 users)"


def test_list_filters_staff_and_inactive_accounts(make_user) -> None:
    make_user(email="ann@example.com")
    staff = make_user(email="staff@example.com", is_staff=True)
    gone = make_user(email="gone@example.com")
    _users("deactivate", "gone@example.com")

    assert _users("list", "--staff").splitlines()[0].startswith(staff.id)
    assert _users("list", "--staff").splitlines()[-1] == "(1 user)"
    assert _users("list", "--inactive").splitlines() == [
        f"{gone.id}  gone@example.com  inactive,unverified",
        "(1 user)",
    ]


def test_list_reads_the_table_a_page_at_a_time(monkeypatch, make_user) -> None:
    for number in range(5):
        make_user(email=f"user{number}@example.com")
    monkeypatch.setattr(selectors, "USER_SCAN_PAGE_SIZE", 2)

    with counting_calls() as calls:
        out = _users("list")

    assert out.splitlines()[-1] == "(5 users)"
    # Five users two at a time: three Scan calls (a fourth if DynamoDB returns an empty page).
    assert calls.operations.count("Scan") >= 3


def test_list_with_a_limit_prints_a_cursor_that_continues(make_user) -> None:
    emails = {f"user{number}@example.com" for number in range(3)}
    for email in emails:
        make_user(email=email)

    first = _users("list", "--limit", "2").splitlines()
    cursor = re.fullmatch(r"There may be more: .* --cursor (\S+)", first[-1]).group(1)
    rest = _users("list", "--limit", "2", "--cursor", cursor).splitlines()

    assert first[-2] == "(2 users)"
    assert rest[-1] == "(1 user)"
    listed = [line.split()[1] for line in first[:2] + rest[:1]]
    assert sorted(listed) == sorted(emails)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cursor", "not-a-cursor"], "--cursor is not one that `manage.py users list` printed"),
        (["--cursor", "eyJrZXkiOiB7fX0="], "--cursor is not one that"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_list_refuses_a_bad_cursor_or_limit_in_one_line(args, message) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        _users("list", *args)


# --- deactivate / reactivate ----------------------------------------------------------


def test_deactivate_ends_the_sessions_at_once_and_stops_sign_ins(user) -> None:
    browsers = [_signed_in(), _signed_in()]

    out = _users("deactivate", "ann@example.com")

    assert out == "Deactivated ann@example.com; 2 sessions ended.\n"
    assert not any(_is_signed_in(browser) for browser in browsers)
    assert log_in(Client()).status_code == 200  # the form again: inactive accounts cannot sign in
    assert selectors.user_get(user_id=user.id).is_active is False


def test_deactivate_twice_changes_nothing_the_second_time(user) -> None:
    _users("deactivate", user.id)
    version = selectors.user_get(user_id=user.id).version

    out = _users("deactivate", user.id)

    assert out == "ann@example.com was already inactive; 0 sessions ended.\n"
    assert selectors.user_get(user_id=user.id).version == version


def test_reactivate_lets_the_user_sign_in_again_and_twice_is_harmless(user) -> None:
    _users("deactivate", "ann@example.com")

    assert _users("reactivate", "ann@example.com") == "Reactivated ann@example.com.\n"
    assert _users("reactivate", "ann@example.com") == "ann@example.com was already active.\n"
    assert log_in(Client()).status_code == 302


def test_deactivate_moves_the_version_so_an_admin_form_opened_before_is_stale(user) -> None:
    before = selectors.user_get(user_id=user.id).version

    _users("deactivate", "ann@example.com")

    assert selectors.user_get(user_id=user.id).version == before + 1


def test_deactivate_an_unknown_user_exits_1_and_changes_nothing(user) -> None:
    result = manage("users", "deactivate", "nobody@example.com")

    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: no user with email address 'nobody@example.com'"
    assert selectors.user_get(user_id=user.id).is_active


def test_deactivate_then_reactivate_run_as_manage_py(user) -> None:
    first = manage("users", "deactivate", "ann@example.com")
    second = manage("users", "deactivate", "ann@example.com")
    back = manage("users", "reactivate", "ann@example.com")

    assert (first.returncode, second.returncode, back.returncode) == (0, 0, 0)
    assert "Deactivated ann@example.com; 0 sessions ended." in first.stdout
    assert "ann@example.com was already inactive" in second.stdout
    assert "Reactivated ann@example.com." in back.stdout
    assert selectors.user_get(user_id=user.id).is_active


# --- endsessions -----------------------------------------------------------------------


def test_endsessions_for_one_user_leaves_the_others_signed_in(make_user) -> None:
    make_user(email="ann@example.com")
    make_user(email="bob@example.com")
    ann, bob = _signed_in("ann@example.com"), _signed_in("bob@example.com")

    assert _users("endsessions", "ann@example.com") == "Ended 1 session of ann@example.com.\n"
    assert _users("endsessions", "ann@example.com") == "Ended 0 sessions of ann@example.com.\n"
    assert not _is_signed_in(ann)
    assert _is_signed_in(bob)


def test_endsessions_all_with_noinput_signs_everyone_out(make_user) -> None:
    make_user(email="ann@example.com")
    make_user(email="bob@example.com")
    browsers = [_signed_in("ann@example.com"), _signed_in("bob@example.com")]

    out = _users("endsessions", "--all", "--noinput")

    assert out == "Ended 2 sessions: everyone is signed out.\n"
    assert not any(_is_signed_in(browser) for browser in browsers)
    assert _users("endsessions", "--all", "--noinput") == (
        "Ended 0 sessions: everyone is signed out.\n"
    )


@pytest.mark.parametrize(("answer", "signed_out"), [("yes", True), ("no", False), ("", False)])
def test_endsessions_all_asks_first_on_a_terminal(monkeypatch, user, answer, signed_out) -> None:
    browser = _signed_in()
    prompts = []
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr(builtins, "input", lambda prompt="": prompts.append(prompt) or answer)

    out = _users("endsessions", "--all")

    assert "Type 'yes' to continue" in prompts[0]
    assert _is_signed_in(browser) is not signed_out
    if not signed_out:
        assert out == "Cancelled: no session was ended.\n"


def test_endsessions_all_without_a_terminal_or_noinput_refuses(user) -> None:
    browser = _signed_in()

    result = manage("users", "endsessions", "--all")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "CommandError: endsessions --all asks for confirmation on a terminal; "
        "pass --noinput to run it without asking"
    )
    assert _is_signed_in(browser)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a user (email address or id), or --all for everyone"),
        (["ann@example.com", "--all"], "give a user or --all, not both"),
    ],
)
def test_endsessions_needs_exactly_one_of_a_user_or_all(user, args, message) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        _users("endsessions", *args)


# --- every action ----------------------------------------------------------------------


def test_help_names_every_action() -> None:
    result = manage("users", "--help")

    assert result.returncode == 0
    for action in ("find", "list", "deactivate", "reactivate", "endsessions"):
        assert action in result.stdout


def test_dynamodb_unreachable_is_one_line_and_exit_status_1() -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}

    result = manage("users", "find", "ann@example.com", env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: DynamoDB is unreachable: ")
