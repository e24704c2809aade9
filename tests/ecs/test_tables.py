"""The data stack's tables are exactly the tables ``manage.py migrate`` creates.

Both come from the registered models: ``migrate`` sends
:func:`datalayer.tables.create_table_request` to CreateTable; here the same
request is compared with ``ecs/templates/data.yaml`` field by field (keys,
attribute definitions, indexes and their projections, TTL attribute, billing
mode), so a model change without its template change fails, and the other way
round. Every table must also keep point-in-time recovery, deletion protection
and encryption on, and be watched by the throttling alarm.
"""

from typing import Any

import pytest

from datalayer.models import registered_models
from datalayer.tables import create_table_request, ttl_attribute
from tests.ecs import cfn

pytestmark = pytest.mark.no_dynamodb

PREFIX = "${TablePrefix}"


def _template_tables() -> dict[str, dict[str, Any]]:
    """Return the data stack's tables by base name (the name without the prefix)."""
    tables = {}
    for name, resource in cfn.resources(cfn.template("data.yaml"), "AWS::DynamoDB::Table").items():
        table_name = resource["Properties"]["TableName"]
        assert isinstance(table_name, dict), f"{name}: TableName must be !Sub prefix + base name"
        sub = table_name["Fn::Sub"]
        assert sub.startswith(PREFIX), f"{name}: {sub!r} does not start with {PREFIX}"
        tables[sub.removeprefix(PREFIX)] = resource["Properties"]
    return tables


def _indexes(indexes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        index["IndexName"]: {
            "KeySchema": sorted(index["KeySchema"], key=lambda k: k["KeyType"]),
            "Projection": {
                "ProjectionType": index["Projection"]["ProjectionType"],
                "NonKeyAttributes": sorted(index["Projection"].get("NonKeyAttributes", [])),
            },
        }
        for index in indexes
    }


def _shape(request: dict[str, Any], ttl: str | None) -> dict[str, Any]:
    """Reduce CreateTable arguments (or template properties) to what must match."""
    return {
        "AttributeDefinitions": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in request["AttributeDefinitions"]
        ),
        "KeySchema": sorted(request["KeySchema"], key=lambda k: k["KeyType"]),
        "GlobalSecondaryIndexes": _indexes(request.get("GlobalSecondaryIndexes", [])),
        "LocalSecondaryIndexes": _indexes(request.get("LocalSecondaryIndexes", [])),
        "BillingMode": request["BillingMode"],
        "TTL": ttl,
    }


MODELS = {model._base_table_name: model for model in registered_models()}
TEMPLATE_TABLES = _template_tables()


def test_the_data_stack_declares_exactly_the_registered_tables() -> None:
    assert sorted(TEMPLATE_TABLES) == sorted(MODELS), (
        "ecs/templates/data.yaml and the registered models disagree: "
        f"only in the template {sorted(TEMPLATE_TABLES.keys() - MODELS.keys())}, "
        f"only in the models {sorted(MODELS.keys() - TEMPLATE_TABLES.keys())}"
    )


@pytest.mark.parametrize("base_name", sorted(MODELS))
def test_each_table_matches_what_migrate_creates(base_name: str) -> None:
    model = MODELS[base_name]
    properties = TEMPLATE_TABLES.get(base_name)
    assert properties is not None, f"data.yaml has no table {PREFIX}{base_name}"
    ttl_spec = properties.get("TimeToLiveSpecification")
    template_ttl = ttl_spec["AttributeName"] if ttl_spec and ttl_spec["Enabled"] else None

    expected = _shape(create_table_request(model), ttl_attribute(model))
    assert _shape(properties, template_ttl) == expected


@pytest.mark.parametrize("base_name", sorted(TEMPLATE_TABLES))
def test_each_table_is_recoverable_protected_and_encrypted(base_name: str) -> None:
    properties = TEMPLATE_TABLES[base_name]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_every_table_is_watched_for_throttling() -> None:
    alarms = cfn.resources(cfn.template("alarms.yaml"), "AWS::CloudWatch::Alarm")
    watched: dict[str, set[str]] = {}
    for name in ("TableReadThrottlingAlarm", "TableWriteThrottlingAlarm"):
        queries = [q for q in alarms[name]["Properties"]["Metrics"] if "MetricStat" in q]
        # CloudWatch refuses a metric math alarm with more than 10 metrics (a hard limit).
        assert len(queries) <= 10, f"{name} has {len(queries)} metrics; split it"
        for query in queries:
            metric = query["MetricStat"]["Metric"]
            (dimension,) = metric["Dimensions"]
            table = dimension["Value"]["Fn::Sub"].removeprefix(PREFIX)
            watched.setdefault(table, set()).add(metric["MetricName"])
    both = {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert watched == dict.fromkeys(TEMPLATE_TABLES, both)
