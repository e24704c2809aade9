"""Count the DynamoDB API calls made while serving one request.

A botocore ``before-call`` hook fires once per API operation (retries of the same
operation are not counted again); the count lives in a context variable, so each
request thread or task sees only its own calls.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_HOOK_ID = "nebula.dynamo.calls"


@dataclass
class CallCount:
    """The calls made inside one :func:`counting_calls` block."""

    total: int = 0
    operations: list[str] = field(default_factory=list)


_current: ContextVar[CallCount | None] = ContextVar("nebula_dynamodb_calls", default=None)


@contextmanager
def counting_calls() -> Iterator[CallCount]:
    """Count every DynamoDB call made inside the block, in this context only."""
    count = CallCount()
    token = _current.set(count)
    try:
        yield count
    finally:
        _current.reset(token)


def _on_call(model: Any, **_: Any) -> None:
    count = _current.get()
    if count is not None:
        count.total += 1
        count.operations.append(model.name)


def instrument(client: Any) -> None:
    """Register the counting hook on a botocore DynamoDB client (idempotent)."""
    client.meta.events.register("before-call.dynamodb", _on_call, unique_id=_HOOK_ID)
