"""Count the DynamoDB API calls of one request or invocation; stop once DynamoDB failed.

A botocore ``before-call`` hook fires once per API operation (retries of the same
operation are not counted again); the count lives in a context variable, so each
request thread or task sees only its own calls. The site opens a
:func:`counting_calls` block per request (its access-log middleware), Lambda code
may open one per invocation; outside a block nothing is counted or cut short.

The same context remembers an operation that failed because DynamoDB is
unavailable (:func:`datalayer.errors.is_unavailable`). From then on every
further call in that context raises :class:`~datalayer.errors.UnavailableError`
at once, without touching the network: a request that met a hung DynamoDB
waits for it once, not once per call (loading the session again in the response
phase, for instance). The next request (or invocation) starts afresh, so the site recovers as
soon as DynamoDB answers; there is no process-wide circuit breaker.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .errors import UnavailableError, is_unavailable, is_unavailable_answer

_HOOK_ID = "datalayer.calls"
_HOOK_ID_ATTRIBUTE = "_datalayer_calls_instrumented"


@dataclass
class CallCount:
    """The calls made inside one :func:`counting_calls` block."""

    total: int = 0
    operations: list[str] = field(default_factory=list)
    # The first "DynamoDB is unavailable" error met in this block, if any.
    unavailable: BaseException | None = None


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


def unavailable_cause() -> BaseException | None:
    """Return the error that showed DynamoDB unavailable earlier in this context, if any."""
    count = _current.get()
    return count.unavailable if count is not None else None


def _on_call(model: Any, **_: Any) -> None:
    count = _current.get()
    if count is None:
        return
    if count.unavailable is not None:
        raise UnavailableError(operation=model.name, cause=count.unavailable)
    count.total += 1
    count.operations.append(model.name)


def _on_error(exception: BaseException, **_: Any) -> None:
    # Connection refused, timeouts...: raised by the endpoint after botocore's retries.
    count = _current.get()
    if count is not None and count.unavailable is None and is_unavailable(exception):
        count.unavailable = exception


def _on_answer(model: Any, parsed: dict | None, **_: Any) -> None:
    # Throttling and internal errors arrive as answers, after botocore's retries.
    count = _current.get()
    if count is not None and count.unavailable is None and is_unavailable_answer(parsed):
        code = (parsed or {}).get("Error", {}).get("Code")
        count.unavailable = UnavailableError(operation=model.name, cause=code)


def instrument(client: Any) -> None:
    """Register the counting and fail-fast hooks on a botocore DynamoDB client (idempotent)."""
    # Called before every operation: registering again would cost botocore an
    # argument-spec inspection per hook and call (~0.1 ms of every request).
    if getattr(client, _HOOK_ID_ATTRIBUTE, False):
        return
    events = client.meta.events
    events.register("before-call.dynamodb", _on_call, unique_id=_HOOK_ID)
    events.register("after-call-error.dynamodb", _on_error, unique_id=f"{_HOOK_ID}.error")
    events.register("after-call.dynamodb", _on_answer, unique_id=f"{_HOOK_ID}.answer")
    setattr(client, _HOOK_ID_ATTRIBUTE, True)
