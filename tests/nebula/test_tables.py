"""``manage.py migrate`` creates and updates every table, idempotently."""

from io import StringIO

import boto3
import pytest
from django.core.management import CommandError, call_command
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from datalayer import models
from datalayer.tables import ensure_table
from nebula.dynamo.cache import CacheEntry


def _client():
    return boto3.client("dynamodb", region_name="eu-west-1")


def _point_in_time_recovery(table: str) -> str:
    backups = _client().describe_continuous_backups(TableName=table)
    description = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    return description["PointInTimeRecoveryStatus"]


def _migrate(*args: str) -> str:
    out = StringIO()
    call_command("migrate", *args, stdout=out)
    return out.getvalue()


class ByOwner(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)


@pytest.fixture
def widget_model():
    """A model declared only for this test, with a GSI and a TTL attribute."""
    from pynamodb.attributes import TTLAttribute

    class Widget(models.NebulaModel):
        class Meta:
            table_name = "test-widgets"

        id = UnicodeAttribute(hash_key=True)
        owner = UnicodeAttribute()
        size = NumberAttribute(null=True)
        expires = TTLAttribute(null=True)
        by_owner = ByOwner()

    yield Widget
    models._registry.pop("test-widgets")


def test_migrate_creates_every_registered_table_with_prefix_and_on_demand_billing() -> None:
    _client().delete_table(TableName="nebula-test-cache")

    out = _migrate()

    assert "nebula-test-cache: created" in out
    table = _client().describe_table(TableName="nebula-test-cache")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = _client().describe_time_to_live(TableName="nebula-test-cache")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"
    assert _point_in_time_recovery("nebula-test-cache") == "ENABLED"


def test_migrate_twice_changes_nothing_the_second_time() -> None:
    _migrate()
    lines = _migrate().strip().splitlines()
    assert "nebula-test-cache: up to date" in lines
    assert "nebula-test-sessions: up to date" in lines
    assert "nebula-test-jobs: up to date" in lines
    assert all(line.endswith(": up to date") for line in lines)


def test_migrate_creates_the_jobs_table_with_its_indexes_and_ttl() -> None:
    _client().delete_table(TableName="nebula-test-jobs")

    out = _migrate()

    assert "nebula-test-jobs: created" in out
    table = _client().describe_table(TableName="nebula-test-jobs")["Table"]
    indexes = {
        index["IndexName"]: sorted((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"])
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "by-failure": [("failure_status", "HASH"), ("finished", "RANGE")],
        "by-owner": [("created", "RANGE"), ("owner_id", "HASH")],
        "by-status": [("deadline", "RANGE"), ("live_status", "HASH")],
    }
    ttl = _client().describe_time_to_live(TableName="nebula-test-jobs")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"


def test_migrate_check_fails_when_a_table_is_missing_and_changes_nothing() -> None:
    _client().delete_table(TableName="nebula-test-cache")

    with pytest.raises(CommandError, match="not up to date"):
        _migrate("--check")

    assert "nebula-test-cache" not in _client().list_tables()["TableNames"]


def test_new_model_table_gets_its_index_and_ttl(widget_model) -> None:
    report = ensure_table(widget_model)

    assert report.created
    table = _client().describe_table(TableName="nebula-test-test-widgets")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-owner"]
    widget_model(id="w1", owner="ann").save()
    assert [w.id for w in widget_model.by_owner.query("ann")] == ["w1"]


def test_existing_table_gets_missing_index_ttl_billing_and_recovery(widget_model) -> None:
    _client().create_table(
        TableName="nebula-test-test-widgets",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )

    report = ensure_table(widget_model)

    assert not report.created
    assert report.changes == [
        "billing switched to on-demand",
        "index by-owner added",
        "TTL enabled on expires",
        "point-in-time recovery enabled",
    ]
    table = _client().describe_table(TableName="nebula-test-test-widgets")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert _point_in_time_recovery("nebula-test-test-widgets") == "ENABLED"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-owner"]
    assert ensure_table(widget_model).summary == "up to date"


def test_an_index_no_longer_declared_is_reported_and_kept(widget_model) -> None:
    ensure_table(widget_model)
    widget_model._indexes.pop("by-owner")
    try:
        report = ensure_table(widget_model)
    finally:
        widget_model._indexes["by-owner"] = widget_model.by_owner

    assert report.notes == ["index by-owner is no longer declared; left in place"]
    table = _client().describe_table(TableName="nebula-test-test-widgets")["Table"]
    assert len(table["GlobalSecondaryIndexes"]) == 1


def test_models_use_request_path_timeouts() -> None:
    meta = CacheEntry.Meta
    assert (meta.connect_timeout_seconds, meta.read_timeout_seconds) == (0.5, 1.0)
    # PynamoDB asks botocore for 1 + max_retry_attempts attempts: two in all.
    assert meta.max_retry_attempts == 1
    config = CacheEntry._get_connection().connection.client.meta.config
    assert config.retries["total_max_attempts"] == 2
    assert config.connect_timeout == 0.5
    assert config.read_timeout == 1.0


def test_migrate_reports_an_unreachable_endpoint_in_one_line(monkeypatch) -> None:
    from tests.support import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    CacheEntry._connection = None
    try:
        with pytest.raises(CommandError, match="DynamoDB is unreachable"):
            _migrate()
    finally:
        monkeypatch.undo()
        CacheEntry._connection = None
