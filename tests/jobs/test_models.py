"""The jobs app registers the submit function's idempotency table, so migrate creates it.

Checked in a fresh process: this test process has imported ``lambdas`` anyway.
"""

import os

import boto3

from lambdas import settings as lambda_settings
from tests.support import manage


def test_migrate_creates_the_table_submit_uses_with_its_ttl(monkeypatch):
    client = boto3.client("dynamodb", region_name="eu-west-1")
    client.delete_table(TableName="nebula-test-idempotency")
    monkeypatch.setenv("NEBULA_TABLE_PREFIX", "nebula-test-")

    result = manage("migrate", env={**os.environ, "DJANGO_SETTINGS_MODULE": "nebula.settings.test"})

    assert result.returncode == 0, result.stderr
    name = lambda_settings.idempotency_table()
    assert f"{name}: created" in result.stdout
    table = client.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"
