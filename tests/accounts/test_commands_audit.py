"""Operators' commands that change data write audit entries: operator:<login name>, "command"."""

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client

from accounts import selectors
from datalayer import jobs
from datalayer.jobs import JobKind, job_create
from nebula.audit import audit_list, operator_id
from tests.accounts.conftest import log_in, log_in_staff
from tests.support import manage

OPERATOR = "operator:olga"


@pytest.fixture(autouse=True)
def _login_name(monkeypatch) -> None:
    # getpass.getuser() reads LOGNAME first: the operator running the command.
    monkeypatch.setenv("LOGNAME", "olga")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _entries(**filters) -> list:
    return audit_list(**filters).entries


def _sign_in(email: str = "ann@example.com") -> Client:
    browser = Client()
    assert log_in(browser, email=email).status_code == 302
    return browser


@pytest.mark.no_dynamodb
@pytest.mark.parametrize(
    ("name", "actor"),
    [
        ("olga", "operator:olga"),
        ("DOMAIN\\olga smith", "operator:DOMAIN_olga_smith"),
        ("", "operator:unknown"),
    ],
)
def test_the_operator_is_named_by_the_login_name(monkeypatch, name, actor) -> None:
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LOGNAME", name)
    if not name:
        monkeypatch.setattr("getpass.getuser", lambda: (_ for _ in ()).throw(OSError("none")))

    assert operator_id() == actor


def test_deactivate_and_reactivate_are_audited_as_the_operator(user) -> None:
    _sign_in()

    _run("users", "deactivate", "ann@example.com")
    _run("users", "deactivate", "ann@example.com")  # nothing changes: nothing recorded
    _run("users", "reactivate", "ann@example.com")

    reactivated, deactivated = _entries(entity=("user", user.id))
    assert (deactivated.actor_id, deactivated.action, deactivated.source_name) == (
        OPERATOR,
        "user.deactivate",
        "command",
    )
    assert (deactivated.before, deactivated.after) == ({"is_active": True}, {"is_active": False})
    assert deactivated.entity_label == "ann@example.com"
    assert (reactivated.action, reactivated.after) == ("user.reactivate", {"is_active": True})
    assert [e.id for e in _entries(actor_id=OPERATOR)] == [reactivated.id, deactivated.id]


def test_endsessions_for_one_user_and_for_everyone_are_audited(user) -> None:
    _sign_in()
    _sign_in()

    _run("users", "endsessions", "ann@example.com")
    _run("users", "endsessions", "ann@example.com")  # none left: nothing recorded
    _sign_in()
    _run("users", "endsessions", "--all", "--noinput")

    everyone, one = _entries(actor_id=OPERATOR)
    assert (one.action, one.entity_id, one.before, one.after) == (
        "user.end_sessions",
        user.id,
        {"sessions": 2},
        {"sessions": 0},
    )
    assert (everyone.action, everyone.entity, everyone.before) == (
        "session.end_all",
        "session:all",
        {"sessions": 1},
    )
    assert everyone.source_name == "command"


def test_each_imported_account_is_audited_and_a_second_run_adds_nothing(tmp_path) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text("email,display_name,is_staff\nbea@example.com,Bea,true\ncy@example.com,,\n")

    _run("importusers", str(csv))
    _run("importusers", str(csv))

    entries = _entries(actor_id=OPERATOR)
    assert sorted(e.entity_label for e in entries) == ["bea@example.com", "cy@example.com"]
    bea = next(e for e in entries if e.entity_label == "bea@example.com")
    assert bea.action == "user.import"
    assert bea.entity_id == selectors.user_get_by_email(email="bea@example.com").id
    assert bea.after["is_staff"] is True
    assert bea.after["display_name"] == "Bea"


def test_sweepjobs_audits_a_run_that_failed_jobs(monkeypatch) -> None:
    job_create(
        owner_id="a" * 32, kind=JobKind.EXPORT, params={}, idempotency_key="k1", run_seconds=1
    )
    assert "Failed 0 jobs" in _run("sweepjobs")  # not late yet: nothing recorded

    later = datetime.now(UTC) + timedelta(seconds=5)
    monkeypatch.setattr(jobs, "_now", lambda: later)
    assert "Failed 1 job past" in _run("sweepjobs")

    [entry] = _entries(actor_id=OPERATOR)
    assert (entry.action, entry.after, entry.source_name) == (
        "job_sweep.run",
        {"failed": 1},
        "command",
    )


def test_the_audit_log_filters_by_an_operator(user, make_user) -> None:
    make_user(email="root@example.com", is_staff=True, is_superuser=True)
    _run("users", "deactivate", "ann@example.com")
    admin = Client()
    log_in_staff(admin, "root@example.com")

    page = admin.get("/admin/audit/", {"actor": OPERATOR})

    assert page.status_code == 200
    text = page.content.decode()
    assert "user.deactivate" in text
    assert "manage.py" in text
    assert f"?actor={OPERATOR.replace(':', '%3A')}" in text


def test_a_real_manage_py_run_records_the_login_name_it_ran_as(user) -> None:
    result = manage(
        "users", "deactivate", "ann@example.com", env={**os.environ, "LOGNAME": "ops-1"}
    )

    assert result.returncode == 0, result.stderr
    [entry] = _entries(actor_id="operator:ops-1")
    assert entry.action == "user.deactivate"
