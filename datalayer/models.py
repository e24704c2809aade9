"""The base of every Nebula table, and the registry ``migrate`` and ``/readyz`` use.

A module declares ``class Thing(NebulaModel)`` with ``Meta.table_name = "things"``;
the registry remembers that base name, and :func:`configure` gives every model its
environment's prefixed name, region and timeouts. The site calls it when Django is
ready (``nebula.apps``), Lambda code through :func:`datalayer.configure_from_environment`.

Until :func:`configure` has run, every DynamoDB call of a model (and
:func:`connection`) raises :class:`TableNotConfiguredError`: an unconfigured model
would otherwise read and write the bare table name (``jobs``), in whatever account
and region botocore finds.
"""

from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model

from . import aws, calls

# Base table name (as declared in Meta) -> model.
_registry: dict[str, type["NebulaModel"]] = {}
_settings: dict[str, Any] = {}


class TableNotConfiguredError(RuntimeError):
    """A model was used before :func:`configure` gave it its environment's table name."""

    def __init__(self, table: str | None) -> None:
        used = f"table {table!r}" if table else "the shared connection"
        super().__init__(
            f"{used} used before datalayer.configure(): no table prefix, region or "
            "timeouts yet (the site configures at Django startup, Lambda code must call "
            "datalayer.configure_from_environment() first)"
        )
        self.table = table


def is_configured() -> bool:
    """Return True once :func:`configure` has run in this process."""
    return bool(_settings)


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
        # Every PynamoDB operation (transactions included) fetches its connection here.
        if not _settings:
            raise TableNotConfiguredError(cls._base_table_name)
        table = super()._get_connection()
        _make_client(table.connection)
        calls.instrument(table.connection.client)
        return table


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
        session=None,
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


def table_name(base_name: str) -> str:
    """Return the configured name of the table ``base_name`` (for code without the model).

    The Lambda code writes a few attributes of the site's tables (the users table)
    without importing the site's models.
    """
    if not _settings:
        raise TableNotConfiguredError(base_name)
    return _settings["prefix"] + base_name


def connection() -> Connection:
    """Return the shared, counted connection for transactions (the configured timeouts)."""
    if not _settings:
        raise TableNotConfiguredError(None)
    conn = _settings.get("connection")
    if conn is None:
        conn = Connection(
            region=_settings["region"],
            connect_timeout_seconds=_settings["connect_timeout"],
            read_timeout_seconds=_settings["read_timeout"],
            max_retry_attempts=_settings["max_attempts"] - 1,
        )
        _settings["connection"] = conn
    _make_client(conn)
    calls.instrument(conn.client)
    return conn


def _make_client(conn: Connection) -> None:
    """Make ``conn``'s botocore client, once, from the process's one botocore session.

    PynamoDB would make a botocore session per connection (per model) and per
    thread, and each session loads its own copy of botocore's endpoint data
    (~7 MiB): the process's one session (:func:`datalayer.aws.session`) keeps one,
    trimmed to the services Nebula calls. Each model keeps a client of its own
    (~0.2 MiB), made from it with PynamoDB's settings.
    """
    if conn._client is not None:
        return
    with aws.client_lock:
        if conn._client is None:
            conn._local.session = aws.session()  # PynamoDB's per-thread session slot
            conn.client  # noqa: B018 - made now, under the lock
