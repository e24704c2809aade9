"""Create and update the tables of every registered model, and check they exist.

``ensure_table`` is idempotent: it creates a missing table (on-demand billing, its
GSIs, TTL and point-in-time recovery), and on an existing table adds missing GSIs,
switches billing to on-demand and turns TTL and point-in-time recovery on. It never
deletes an index or a table: an index the model no longer declares is reported and
left for an operator to remove.

:func:`create_table_request` is the one description of a table: ``migrate`` sends it
to CreateTable, and ``tests/ecs/test_tables.py`` compares the CloudFormation tables
with it.
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


def _gsi_definition(index: dict) -> dict:
    return {
        "IndexName": index["index_name"],
        "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"]),
        "Projection": index["projection"],
    }


def create_table_request(model: type[NebulaModel]) -> dict[str, Any]:
    """Return the CreateTable arguments for the model's table (its TTL and PITR are set apart)."""
    schema = model._get_schema()
    request: dict[str, Any] = {
        "TableName": model.Meta.table_name,
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
    return request


def ttl_attribute(model: type[NebulaModel]) -> str | None:
    """Return the name of the model's TTL attribute, or None when it has none."""
    attribute = model._ttl_attribute()
    return attribute.attr_name if attribute else None


def _create(client: Any, model: type[NebulaModel]) -> None:
    name = model.Meta.table_name
    client.create_table(**create_table_request(model))
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


def _ensure_point_in_time_recovery(
    client: Any, name: str, report: TableReport, *, dry_run: bool
) -> None:
    # Every table gets continuous backups: restoring to a second in the last 35
    # days is the answer to a bad deploy or a bad admin edit (docs/deploy.md).
    if not report.created:
        backups = client.describe_continuous_backups(TableName=name)
        description = backups["ContinuousBackupsDescription"]
        status = description.get("PointInTimeRecoveryDescription", {})
        if status.get("PointInTimeRecoveryStatus") == "ENABLED":
            return
        report.changes.append("point-in-time recovery enabled")
    if not dry_run:
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
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
        _create(client, model)
    else:
        _update(client, table, schema, report, dry_run=dry_run)
    ttl = ttl_attribute(model)
    if ttl is not None:
        _ensure_ttl(client, name, ttl, report, dry_run=dry_run)
    _ensure_point_in_time_recovery(client, name, report, dry_run=dry_run)
    return report


def ensure_all_tables(*, dry_run: bool = False) -> list[TableReport]:
    """Run :func:`ensure_table` for every registered model."""
    return [ensure_table(model, dry_run=dry_run) for model in registered_models()]


@dataclass
class TableState:
    """What ``manage.py status`` shows of one table: DynamoDB's view beside the model's."""

    table: str
    status: str | None = None  # None: the table does not exist
    item_count: int | None = None  # DynamoDB's approximate ItemCount
    indexes: list[str] = field(default_factory=list)  # "by-user (ACTIVE)"
    ttl: str = "off"
    point_in_time_recovery: str = "unknown"
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        """Whether the table is what ``migrate`` would create (it would change nothing)."""
        return not self.differences


def _key_names(key_schema: list[dict]) -> list[str]:
    return [key["AttributeName"] for key in sorted(key_schema, key=lambda k: k["KeyType"])]


def _index_differences(table: dict, schema: dict) -> list[str]:
    """Return how indexes present by name differ from their declaration (migrate cannot fix it)."""
    declared = {index["index_name"]: index for index in schema["global_secondary_indexes"]}
    differences = []
    for index in table.get("GlobalSecondaryIndexes", []):
        wanted = declared.get(index["IndexName"])
        if wanted is None:
            continue
        keys, wanted_keys = _key_names(index["KeySchema"]), _key_names(wanted["key_schema"])
        projection = index.get("Projection", {}).get("ProjectionType")
        wanted_projection = wanted["projection"]["ProjectionType"]
        if keys != wanted_keys or projection != wanted_projection:
            differences.append(
                f"index {index['IndexName']} has keys {keys} and projection {projection}, "
                f"the model declares {wanted_keys} and {wanted_projection}: delete the index, "
                "then run migrate"
            )
    return differences


def _ttl_state(client: Any, name: str, declared: str | None, state: TableState) -> None:
    description = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    status = description.get("TimeToLiveStatus", "DISABLED")
    attribute = description.get("AttributeName")
    on = status in ("ENABLED", "ENABLING")
    state.ttl = f"{status.lower()} on {attribute}" if on else status.lower()
    if declared is None:
        if on:
            state.notes.append(f"TTL is on ({attribute}) but the model declares no TTL attribute")
    elif not on:
        state.differences.append(f"migrate would change: TTL enabled on {declared}")
    elif attribute != declared:
        state.differences.append(
            f"TTL is on {attribute}, the model declares {declared}: turn TTL off, then run migrate"
        )


def _point_in_time_recovery(client: Any, name: str) -> str:
    backups = client.describe_continuous_backups(TableName=name)
    description = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    return description.get("PointInTimeRecoveryStatus", "DISABLED").lower()


def table_state(model: type[NebulaModel]) -> TableState:
    """Describe the model's table and compare it with what :func:`ensure_table` would make.

    Changes nothing. ``differences`` holds what ``migrate`` would do (and what it
    cannot: an index or TTL attribute declared differently); ``notes`` what it
    leaves alone (an index no longer declared).
    """
    name = model.Meta.table_name
    client = _client(model)
    state = TableState(table=name)
    table = _describe(model)
    if table is None:
        state.differences.append("missing: migrate would create it")
        return state
    state.status = table["TableStatus"]
    state.item_count = table.get("ItemCount")
    state.indexes = [
        f"{index['IndexName']} ({index.get('IndexStatus', 'ACTIVE')})"
        for index in table.get("GlobalSecondaryIndexes", [])
    ]
    schema = model._get_schema()
    plan = TableReport(table=name)
    _update(client, table, schema, plan, dry_run=True)
    _ttl_state(client, name, ttl_attribute(model), state)
    _ensure_point_in_time_recovery(client, name, plan, dry_run=True)
    state.point_in_time_recovery = _point_in_time_recovery(client, name)
    state.differences += [f"migrate would change: {change}" for change in plan.changes]
    state.differences += _index_differences(table, schema)
    state.notes += plan.notes
    return state


def all_table_states() -> list[TableState]:
    """Run :func:`table_state` for every registered model."""
    return [table_state(model) for model in registered_models()]


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
