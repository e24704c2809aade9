"""Create and update the tables of every registered model, and check they exist.

``ensure_table`` is idempotent: it creates a missing table (on-demand billing, its
GSIs and TTL), and on an existing table adds missing GSIs, switches billing to
on-demand and turns TTL on. It never deletes an index or a table: an index the
model no longer declares is reported and left for an operator to remove.
"""

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .models import NebulaModel, registered_models


@dataclass
class TableReport:
    """What ``ensure_table`` found and did for one table."""

    table: str
    created: bool = False
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.created:
            return "created"
        return "; ".join(self.changes) if self.changes else "up to date"


def _client(model: type[NebulaModel]) -> Any:
    return model._get_connection().connection.client


def _describe(model: type[NebulaModel]) -> dict | None:
    try:
        return _client(model).describe_table(TableName=model.Meta.table_name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _ttl_attribute(model: type[NebulaModel]) -> str | None:
    attribute = model._ttl_attribute()
    return attribute.attr_name if attribute else None


def _gsi_definition(index: dict) -> dict:
    return {
        "IndexName": index["index_name"],
        "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"]),
        "Projection": index["projection"],
    }


def _create(client: Any, name: str, schema: dict) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": sorted(schema["key_schema"], key=lambda k: k["KeyType"]),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if schema["global_secondary_indexes"]:
        request["GlobalSecondaryIndexes"] = [
            _gsi_definition(index) for index in schema["global_secondary_indexes"]
        ]
    if schema["local_secondary_indexes"]:
        request["LocalSecondaryIndexes"] = [
            _gsi_definition(index) for index in schema["local_secondary_indexes"]
        ]
    client.create_table(**request)
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def _update(client: Any, table: dict, schema: dict, report: TableReport, *, dry_run: bool) -> None:
    name = table["TableName"]
    if table.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
        report.changes.append("billing switched to on-demand")
        if not dry_run:
            client.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    declared = {index["index_name"]: index for index in schema["global_secondary_indexes"]}
    for index_name in sorted(declared.keys() - present):
        report.changes.append(f"index {index_name} added")
        if not dry_run:
            # DynamoDB builds one new GSI per UpdateTable call.
            client.update_table(
                TableName=name,
                AttributeDefinitions=schema["attribute_definitions"],
                GlobalSecondaryIndexUpdates=[{"Create": _gsi_definition(declared[index_name])}],
            )
    for index_name in sorted(present - declared.keys()):
        report.notes.append(f"index {index_name} is no longer declared; left in place")


def _ensure_ttl(
    client: Any, name: str, attribute: str, report: TableReport, *, dry_run: bool
) -> None:
    if not report.created:
        status = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        report.changes.append(f"TTL enabled on {attribute}")
    if not dry_run:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


def ensure_table(model: type[NebulaModel], *, dry_run: bool = False) -> TableReport:
    """Make the model's table match its declaration; return what was (or would be) done."""
    name = model.Meta.table_name
    client = _client(model)
    schema = model._get_schema()
    report = TableReport(table=name)
    table = _describe(model)
    if table is None:
        report.created = True
        if dry_run:
            return report
        _create(client, name, schema)
    else:
        _update(client, table, schema, report, dry_run=dry_run)
    ttl = _ttl_attribute(model)
    if ttl is not None:
        _ensure_ttl(client, name, ttl, report, dry_run=dry_run)
    return report


def ensure_all_tables(*, dry_run: bool = False) -> list[TableReport]:
    """Run :func:`ensure_table` for every registered model."""
    return [ensure_table(model, dry_run=dry_run) for model in registered_models()]


def table_problems() -> list[str]:
    """Return why the tables are not ready to serve (empty when all are ACTIVE)."""
    problems = []
    for model in registered_models():
        table = _describe(model)
        if table is None:
            problems.append(f"table {model.Meta.table_name} is missing")
        elif table["TableStatus"] not in ("ACTIVE", "UPDATING"):
            problems.append(f"table {model.Meta.table_name} is {table['TableStatus']}")
    return problems
