"""``manage.py migrate`` takes Django's options that mean something here and refuses the rest."""

from io import StringIO

import boto3
import pytest
from django.core.management import CommandError, call_command

from tests.support import manage


def _tables() -> list[str]:
    return boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"]


def test_migrate_noinput_as_deploy_scripts_run_it() -> None:
    boto3.client("dynamodb", region_name="eu-west-1").delete_table(TableName="nebula-test-cache")

    result = manage("migrate", "--noinput")

    assert result.returncode == 0, result.stderr
    assert "nebula-test-cache: created" in result.stdout
    assert "nebula-test-cache" in _tables()


@pytest.mark.parametrize(
    "args",
    [
        ["--no-input"],
        ["--noinput", "--skip-checks", "-v", "0"],
        ["--plan", "--noinput"],
        ["--check", "--verbosity", "2"],
    ],
)
def test_migrate_accepts_djangos_options_that_mean_something_here(args) -> None:
    out = StringIO()
    call_command("migrate", *args, stdout=out)

    if "-v" in args:
        assert out.getvalue() == ""
    else:
        assert "nebula-test-users: up to date" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["accounts"], "app label 'accounts'"),
        (["accounts", "zero"], "migration name 'zero'"),
        (["--fake"], "--fake"),
        (["--fake-initial"], "--fake-initial"),
        (["--run-syncdb"], "--run-syncdb"),
        (["--prune"], "--prune"),
        (["--database", "default"], "--database"),
    ],
)
def test_migrate_refuses_sql_only_options_and_changes_nothing(args, named) -> None:
    boto3.client("dynamodb", region_name="eu-west-1").delete_table(TableName="nebula-test-cache")

    with pytest.raises(CommandError, match="there are no SQL migrations here") as refused:
        call_command("migrate", *args, stdout=StringIO())

    assert named in str(refused.value)
    assert "nebula-test-cache" not in _tables()


def test_a_refused_option_is_one_line_and_exit_status_1() -> None:
    result = manage("migrate", "--fake", "--noinput")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: migrate does not take --fake: there are no SQL migrations here; "
        "it creates or updates the DynamoDB table of every model"
    ]
