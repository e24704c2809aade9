"""``createsuperuser`` and ``changepassword`` work on the DynamoDB user store, as Django's do.

The prompts read a terminal: interactive runs go through ``call_command`` with
``input``/``getpass`` answered at that one edge; ``--noinput`` and the exit
statuses run ``manage.py`` for real against the moto server.
"""

import builtins
import dataclasses
import getpass
import io
import os
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import selectors
from tests.accounts.conftest import PASSWORD, log_in
from tests.support import manage, production_env

NEW_PASSWORD = "a brand new passphrase"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def answers(monkeypatch) -> Callable[..., None]:
    """Answer the prompts in order: ``input`` for the address, ``getpass`` for passwords."""

    def give(*, inputs: list[str] = (), passwords: list[str] = ()) -> None:
        inputs, passwords = list(inputs), list(passwords)
        monkeypatch.setattr(builtins, "input", lambda prompt="": inputs.pop(0))
        monkeypatch.setattr(getpass, "getpass", lambda prompt="Password: ": passwords.pop(0))
        monkeypatch.setattr("sys.stdin", _Terminal())

    return give


def _run(name: str, *args: str, **options: object) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _can_log_in(email: str, password: str) -> bool:
    return log_in(Client(), email=email, password=password).status_code == 302


# --- createsuperuser -------------------------------------------------------------------


def test_createsuperuser_asks_until_the_answers_are_good(answers, user) -> None:
    answers(
        inputs=["", "not an address", "ANN@example.com", "root@example.com"],
        passwords=["one", "two", "short", "short", NEW_PASSWORD, NEW_PASSWORD],
    )

    out, err = _run("createsuperuser")

    assert "Superuser created successfully." in out
    assert err.splitlines() == [
        "Email address cannot be blank.",
        "Error: Enter a valid email address.",
        "Error: That email address is already taken.",
        "Error: Your passwords didn't match.",
        "This password is too short. It must contain at least 10 characters.",
    ]
    root = selectors.user_get_by_email(email="root@example.com")
    assert (root.is_staff, root.is_superuser, root.email_verified) == (True, True, True)
    assert _can_log_in("root@example.com", NEW_PASSWORD)
    assert Client().get("/admin/").status_code == 302


def test_createsuperuser_interrupted_creates_nothing(monkeypatch, answers) -> None:
    answers(inputs=["root@example.com"])

    def interrupt(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(getpass, "getpass", interrupt)

    with pytest.raises(SystemExit) as exited:
        _run("createsuperuser")

    assert exited.value.code == 1
    assert selectors.user_get_by_email(email="root@example.com") is None


def test_createsuperuser_without_a_terminal_asks_nothing_and_says_so() -> None:
    out, _ = _run("createsuperuser", stdin=io.StringIO())

    assert "Superuser creation skipped due to not running in a TTY" in out


def test_createsuperuser_noinput_as_an_ecs_task_runs_it() -> None:
    env = production_env(
        DJANGO_SUPERUSER_EMAIL="root@example.com", DJANGO_SUPERUSER_PASSWORD=NEW_PASSWORD
    )
    assert manage("migrate", "--noinput", env=env).returncode == 0

    result = manage("createsuperuser", "--noinput", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Superuser created successfully."
    again = manage("createsuperuser", "--noinput", env=env)
    assert again.returncode == 1
    assert again.stderr.strip() == "CommandError: Error: That email address is already taken."


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DJANGO_SUPERUSER_EMAIL": "root@example.com", "DJANGO_SUPERUSER_PASSWORD": "password"},
            "CommandError: This password is too short. It must contain at least 10 characters. "
            "This password is too common.",
        ),
        (
            {"DJANGO_SUPERUSER_EMAIL": "root@example.com"},
            "CommandError: You must set DJANGO_SUPERUSER_PASSWORD with --noinput.",
        ),
        (
            {"DJANGO_SUPERUSER_PASSWORD": NEW_PASSWORD},
            "CommandError: You must use --email with --noinput.",
        ),
        (
            {"DJANGO_SUPERUSER_EMAIL": "root@", "DJANGO_SUPERUSER_PASSWORD": NEW_PASSWORD},
            "CommandError: Error: Enter a valid email address.",
        ),
    ],
    ids=["weak-password", "no-password", "no-address", "bad-address"],
)
def test_createsuperuser_noinput_refuses_in_one_line(env, message) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SUPERUSER_")}

    result = manage("createsuperuser", "--noinput", env={**inherited, **env})

    assert result.returncode == 1
    assert result.stderr.strip() == message
    assert selectors.user_get_by_email(email="root@example.com") is None


def test_createsuperuser_refuses_an_address_without_a_canonical_form(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)

    with pytest.raises(CommandError, match=r"^Error: .+") as refused:
        call_command("createsuperuser", "--noinput", "--email", "root@stra\u00dfe.de")

    assert "\n" not in str(refused.value)
    assert selectors.user_get_by_email(email="root@stra\u00dfe.de") is None


def test_createsuperuser_stores_the_canonical_address(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)

    call_command("createsuperuser", "--noinput", "--email", "Root@EXA\u00adMPLE.com")

    user = selectors.user_get_by_email(email="root@example.com")
    assert user is not None
    assert user.email == "Root@example.com"
    assert user.is_superuser


@pytest.mark.parametrize("command", ["createsuperuser", "changepassword"])
def test_manage_py_runs_the_accounts_commands(command) -> None:
    result = manage(command, "--help")

    assert result.returncode == 0
    assert "DynamoDB user store" in " ".join(result.stdout.split())


# --- changepassword --------------------------------------------------------------------


def test_changepassword_sets_the_password_and_ends_every_session(answers, user) -> None:
    browser = Client()
    log_in(browser)
    answers(passwords=["one", "two", "password", "password", NEW_PASSWORD, NEW_PASSWORD])

    out, err = _run("changepassword", "ann@example.com")

    assert out.splitlines() == [
        "Changing password for user 'ann@example.com'",
        "Passwords do not match. Please try again.",
        "Signed out of 1 session.",
        "Password changed successfully for user 'ann@example.com'",
    ]
    assert "This password is too common." in err
    assert browser.get("/accounts/profile/").status_code == 302  # signed out
    assert _can_log_in("ann@example.com", NEW_PASSWORD)
    assert not _can_log_in("ann@example.com", PASSWORD)


def test_changepassword_gives_up_after_three_tries(answers, user) -> None:
    answers(passwords=["one", "two"] * 3)

    with pytest.raises(CommandError, match="after 3 attempts"):
        _run("changepassword", "ann@example.com")

    assert _can_log_in("ann@example.com", PASSWORD)


def test_changepassword_for_an_unknown_address_exits_1_in_one_line() -> None:
    result = manage("changepassword", "nobody@example.com")

    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: user 'nobody@example.com' does not exist"


@pytest.mark.parametrize(
    "args",
    [
        ["changepassword", "ann@example.com"],
        ["createsuperuser", "--noinput", "--email", "root@example.com"],
        ["clearsessions"],
    ],
    ids=["changepassword", "createsuperuser", "clearsessions"],
)
def test_dynamodb_unreachable_is_one_line_and_exit_status_1(args) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "DJANGO_SUPERUSER_PASSWORD": NEW_PASSWORD,
    }

    result = manage(*args, env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: DynamoDB is unreachable: ")


def test_clearsessions_deletes_expired_sessions_and_prunes_their_list_entries(
    user, signed_in
) -> None:
    from accounts.models import Session, session_entry_name, session_list_key
    from datalayer.models import connection

    other = Client(HTTP_USER_AGENT="Mozilla/5.0 (Macintosh) Safari/605.1.15")
    assert log_in(other).status_code == 302
    stale, live = selectors.session_entries_get(user_id=user.id)
    # The session and its entry expire together, as they do with time.
    Session(stale.stored_id).update(actions=[Session.expires.set(stale.created)])
    connection().client.update_item(
        TableName=Session.Meta.table_name,
        Key={"key": {"S": session_list_key(user.id)}},
        UpdateExpression="SET #e = :v",
        ExpressionAttributeNames={"#e": session_entry_name(stale.stored_id)},
        ExpressionAttributeValues={
            ":v": {"S": dataclasses.replace(stale, expires=stale.created).encode()}
        },
    )

    _run("clearsessions")

    assert Session.count(stale.stored_id) == 0
    assert Session.count(live.stored_id) == 1
    # The list keeps the live session's entry only, unchanged.
    assert selectors.session_entries_get(user_id=user.id) == [live]


def test_pruning_the_list_of_an_account_deleted_meanwhile_makes_no_list() -> None:
    # clearsessions read the list, then the account went: the removal must not make
    # an empty list again (an item with the user's id and nothing else).
    from accounts import services
    from accounts.models import Session, session_list_key
    from datalayer.models import connection

    client = connection().client
    removed = services._list_entries_remove(client, user_id="gone", stored_ids=["a" * 64])

    assert removed == 0
    assert Session.count(session_list_key("gone")) == 0
