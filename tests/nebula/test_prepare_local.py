"""``manage.py prepare_local`` makes the tables, then runs what the apps registered."""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts import selectors
from datalayer.tables import table_problems
from nebula.signals import prepare_local


@pytest.fixture
def without_accounts() -> Iterator[None]:
    """Take the accounts app's receiver away for one test."""
    prepare_local.disconnect(dispatch_uid="accounts.ensure_local_admin")
    yield
    apps.get_app_config("accounts").ready()


def test_prepare_local_runs_what_apps_registered_once_the_tables_exist() -> None:
    seen = []

    def receiver(sender, *, stdout, stderr, **kwargs) -> None:
        seen.append(table_problems())
        stdout.write("widgets ready")

    prepare_local.connect(receiver)
    out = StringIO()
    try:
        call_command("prepare_local", stdout=out)
    finally:
        prepare_local.disconnect(receiver)

    assert seen == [[]]
    assert "widgets ready" in out.getvalue()


def test_prepare_local_calls_no_app_by_name(without_accounts) -> None:
    call_command("prepare_local", stdout=StringIO())

    assert selectors.user_get_by_email(email="admin@localhost") is None


def test_the_accounts_app_registers_the_local_admin(monkeypatch) -> None:
    monkeypatch.setenv("NEBULA_LOCAL_ADMIN_PASSWORD", "a local admin password")
    out = StringIO()

    call_command("prepare_local", stdout=out)

    admin = selectors.user_get_by_email(email="admin@localhost")
    assert admin.is_superuser
    assert "Local admin admin@localhost created." in out.getvalue()
