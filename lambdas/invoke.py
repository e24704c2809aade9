"""Hand work to another function asynchronously: Lambda ``Invoke`` with ``InvocationType=Event``.

The one point where submit's way of starting the worker can be replaced (tests pass
their own callable). The call is plain botocore: in AWS it reaches Lambda; locally
``AWS_ENDPOINT_URL_LAMBDA`` points it at the local gateway, which answers the same
``Invoke`` API and runs the function in the background with Lambda's retry and
on-failure behaviour.
"""

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from . import settings

WorkerInvoker = Callable[[dict[str, Any]], None]

# submit answers the site within its own short budget: fail fast, retry once.
_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"total_max_attempts": 2})


class InvokeError(Exception):
    """Lambda did not accept the asynchronous invocation."""


class LambdaInvoker:
    """Invoke one function with ``InvocationType=Event``; the client is made on first use."""

    def __init__(self, function_name: str | None = None) -> None:
        self._function_name = function_name
        self._client: Any = None

    def __call__(self, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for the function; raise :class:`InvokeError` if Lambda refuses."""
        if self._client is None:
            self._client = boto3.client("lambda", region_name=settings.region(), config=_CONFIG)
        response = self._client.invoke(
            FunctionName=self._function_name or settings.worker_function(),
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
        if response["StatusCode"] != 202:
            raise InvokeError(f"Lambda answered {response['StatusCode']} to an Event invocation")
