"""``manage.py status``: each table as DynamoDB has it, and whether ``migrate`` would change it."""

import io
import os

import boto3
import pytest
from django.core.management import CommandError, call_command

from datalayer.models import registered_models
from tests.support import manage

SESSIONS = "nebula-test-sessions"
TABLES = len(registered_models())


def _client():
    return boto3.client("dynamodb", region_name="eu-west-1")


def _status() -> str:
    out = io.StringIO()
    call_command("status", stdout=out)
    return out.getvalue()


def _failing_status() -> tuple[str, str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("status", stdout=out)
    return out.getvalue(), str(failed.value)


def _section(out: str, table: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"{table}:")))
    section = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        section.append(line)
    return section


def test_status_after_migrate_says_every_table_matches() -> None:
    out = _status()

    assert _section(out, SESSIONS) == [
        f"{SESSIONS}: ACTIVE",
        "  items: about 0 (approximate: DynamoDB refreshes this count about every six hours)",
        "  indexes: by-user (ACTIVE)",
        "  TTL: enabled on expires",
        "  point-in-time recovery: enabled",
        "  matches what migrate would create",
    ]
    assert "  indexes: none" in _section(out, "nebula-test-users")
    assert "  TTL: disabled" in _section(out, "nebula-test-users")
    assert out.splitlines()[-1] == f"All {TABLES} tables match what migrate would create."


def test_status_shows_the_approximate_item_count() -> None:
    _client().put_item(TableName="nebula-test-cache", Item={"key": {"S": ":1:a"}})

    section = _section(_status(), "nebula-test-cache")

    assert section[1].startswith("  items: about 1 (approximate")


def test_status_after_turning_point_in_time_recovery_off_says_what_differs() -> None:
    _client().update_continuous_backups(
        TableName="nebula-test-users",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )

    out, _ = _failing_status()

    section = _section(out, "nebula-test-users")
    assert "  point-in-time recovery: disabled" in section
    assert "    - migrate would change: point-in-time recovery enabled" in section


def test_status_after_dropping_an_index_says_what_differs_and_fails() -> None:
    _client().update_table(
        TableName=SESSIONS, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-user"}}]
    )

    out, error = _failing_status()

    assert _section(out, SESSIONS)[2:] == [
        "  indexes: none",
        "  TTL: enabled on expires",
        "  point-in-time recovery: enabled",
        "  differs from what migrate would create:",
        "    - migrate would change: index by-user added",
    ]
    assert error == (
        f"1 of {TABLES} tables differ from what migrate would create ({SESSIONS}); see above"
    )
    call_command("migrate", stdout=io.StringIO())
    assert "  matches what migrate would create" in _section(_status(), SESSIONS)


def test_status_after_turning_ttl_off_says_what_differs() -> None:
    _client().update_time_to_live(
        TableName=SESSIONS,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"},
    )

    out, _ = _failing_status()

    section = _section(out, SESSIONS)
    assert "  TTL: disabled" in section
    assert "    - migrate would change: TTL enabled on expires" in section


def test_status_says_when_ttl_is_on_another_attribute_than_declared() -> None:
    client = _client()
    client.update_time_to_live(
        TableName=SESSIONS,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"},
    )
    client.update_time_to_live(
        TableName=SESSIONS,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "last_seen"},
    )

    out, _ = _failing_status()

    assert (
        "    - TTL is on last_seen, the model declares expires: turn TTL off, then run migrate"
        in _section(out, SESSIONS)
    )


def test_status_lists_a_missing_table() -> None:
    _client().delete_table(TableName="nebula-test-cache")

    out, error = _failing_status()

    assert _section(out, "nebula-test-cache") == [
        "nebula-test-cache: missing",
        "  - missing: migrate would create it",
    ]
    assert error.startswith(f"1 of {TABLES} tables differ")


def test_status_changes_nothing() -> None:
    _client().update_table(
        TableName=SESSIONS, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-user"}}]
    )

    _failing_status()
    _failing_status()

    assert not _client().describe_table(TableName=SESSIONS)["Table"].get("GlobalSecondaryIndexes")


def test_status_exit_statuses_as_manage_py() -> None:
    matching = manage("status")
    _client().delete_table(TableName="nebula-test-cache")
    differing = manage("status")
    unreachable = manage(
        "status", env={**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
    )

    assert matching.returncode == 0, matching.stderr
    last = matching.stdout.splitlines()[-1]
    assert last == f"All {TABLES} tables match what migrate would create."
    assert differing.returncode == 1
    assert differing.stderr.strip().splitlines() == [
        f"CommandError: 1 of {TABLES} tables differ from what migrate would create "
        "(nebula-test-cache); see above"
    ]
    assert unreachable.returncode == 1
    [line] = unreachable.stderr.strip().splitlines()
    assert line.startswith("CommandError: DynamoDB is unreachable: ")
    assert unreachable.stdout == ""


def test_status_help_says_the_count_is_approximate() -> None:
    result = manage("status", "--help")

    assert result.returncode == 0
    assert "approximate item count" in " ".join(result.stdout.split())
