"""The base of every Nebula table, and the registry ``migrate`` and ``/readyz`` use.

An app declares ``class Thing(NebulaModel)`` with ``Meta.table_name = "things"``;
the registry remembers that base name, and :func:`configure` (run when Django is
ready) gives every model its environment's prefixed name, region and timeouts.
"""

from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model

from . import calls

# Base table name (as declared in Meta) -> model.
_registry: dict[str, type["NebulaModel"]] = {}
_settings: dict[str, Any] = {}


class NebulaModel(Model):
    """A PynamoDB model whose table is created by ``manage.py migrate``."""

    _base_table_name: str  # Meta.table_name as declared, before the prefix

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only a class that declares its own Meta owns a table.
        if "Meta" in cls.__dict__:
            _register(cls)

    @classmethod
    def _get_connection(cls) -> Any:
        connection = super()._get_connection()
        calls.instrument(connection.connection.client)
        return connection


def _register(model: type[NebulaModel]) -> None:
    base_name = model.Meta.table_name
    other = _registry.get(base_name)
    if other is not None and other.__qualname__ != model.__qualname__:
        raise ValueError(f"table {base_name!r} is declared by both {other} and {model}")
    _registry[base_name] = model
    # Meta.table_name is rewritten with the prefix by configure(); keep the base.
    model._base_table_name = base_name
    if _settings:
        _apply(model)


def registered_models() -> list[type[NebulaModel]]:
    """Return every registered model, sorted by table base name."""
    return [_registry[name] for name in sorted(_registry)]


def configure(
    *,
    prefix: str,
    region: str,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> None:
    """Point every model at its environment's table, region and timeouts."""
    _settings.update(
        prefix=prefix,
        region=region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        connection=None,
    )
    for model in _registry.values():
        _apply(model)


def _apply(model: type[NebulaModel]) -> None:
    meta = model.Meta
    meta.table_name = _settings["prefix"] + model._base_table_name
    meta.region = _settings["region"]
    # No Meta.host: botocore then reads AWS_ENDPOINT_URL_DYNAMODB by itself.
    meta.host = None
    meta.connect_timeout_seconds = _settings["connect_timeout"]
    meta.read_timeout_seconds = _settings["read_timeout"]
    # PynamoDB asks botocore for 1 + max_retry_attempts attempts in all.
    meta.max_retry_attempts = _settings["max_attempts"] - 1
    meta.billing_mode = "PAY_PER_REQUEST"
    model._connection = None


def connection() -> Connection:
    """Return the shared, counted connection for transactions (request-path timeouts)."""
    conn = _settings.get("connection")
    if conn is None:
        conn = Connection(
            region=_settings["region"],
            connect_timeout_seconds=_settings["connect_timeout"],
            read_timeout_seconds=_settings["read_timeout"],
            max_retry_attempts=_settings["max_attempts"] - 1,
        )
        _settings["connection"] = conn
    calls.instrument(conn.client)
    return conn
