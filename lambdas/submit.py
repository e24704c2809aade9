"""Submit: ``POST /jobs`` behind API Gateway (proxy event) hands a job to the worker.

1. Parse and validate the ``Idempotency-Key`` header and the JSON body against the
   API document (``openapi.json``): anything missing, malformed or larger than
   :data:`MAX_BODY_BYTES` is a 400 with a message, never a 5xx.
2. Once per idempotency key (Powertools idempotency, DynamoDB persistence): invoke
   the worker asynchronously with ``{"job_id", "kind", "owner_id"}``.
3. Answer 202 ``{"job_id": ...}``; the same key again gets the same answer and starts
   nothing; the same key with another body gets 409.

The job record itself is the site's (it wrote it, queued, before calling); this
function touches no job table.
"""

import base64
import binascii
import functools
import json
from collections.abc import Callable
from typing import Any

import fastjsonschema
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from . import api, settings
from .invoke import LambdaInvoker, WorkerInvoker
from .observability import logger, metrics

OPERATION = "submitJob"
MAX_BODY_BYTES = 4096
IDEMPOTENCY_HEADER = "idempotency-key"
# A key is kept a day: a retry of the same start within that time starts nothing new.
IDEMPOTENCY_SECONDS = 24 * 3600

_invoker: dict[str, WorkerInvoker] = {}


class BadRequestError(Exception):
    """The request does not match the API document; the message is safe to return."""


def use_worker_invoker(invoker: WorkerInvoker | None) -> None:
    """Replace how the worker is started (tests); ``None`` restores Lambda ``Invoke``."""
    _invoker.clear()
    if invoker is not None:
        _invoker["current"] = invoker


def _worker_invoker() -> WorkerInvoker:
    return _invoker.setdefault("current", LambdaInvoker())


@functools.cache
def _validators() -> tuple[Callable[[Any], Any], dict[str, tuple[bool, Callable[[Any], Any]]]]:
    body = fastjsonschema.compile(api.body_schema(OPERATION))
    headers = {
        name: (required, fastjsonschema.compile(schema))
        for name, (required, schema) in api.header_schemas(OPERATION).items()
    }
    return body, headers


def parse(event: dict[str, Any]) -> dict[str, str]:
    """Return the validated request: ``idempotency_key``, ``job_id``, ``kind``, ``owner_id``.

    Raise :class:`BadRequestError` for anything the API document does not allow.
    """
    body_validator, header_validators = _validators()
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    for name, (required, validate) in header_validators.items():
        if name not in headers:
            if required:
                raise BadRequestError(f"the {name} header is required")
            continue
        try:
            validate(headers[name])
        except fastjsonschema.JsonSchemaException as exc:
            raise BadRequestError(f"the {name} header is invalid: {exc.message}") from exc

    raw = event.get("body") or ""
    if len(raw) > MAX_BODY_BYTES * 2:  # base64 or not, this is too large already
        raise BadRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw
        if isinstance(data, str):
            data = data.encode()
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadRequestError("the body is not valid base64") from exc
    if len(data) > MAX_BODY_BYTES:
        raise BadRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadRequestError("the body is not valid JSON") from exc
    try:
        body_validator(body)
    except fastjsonschema.JsonSchemaException as exc:
        raise BadRequestError(f"the body is invalid: {exc.message}") from exc
    return {
        "idempotency_key": headers[IDEMPOTENCY_HEADER],
        "job_id": body["job_id"],
        "kind": body["kind"],
        "owner_id": body["owner_id"],
    }


def _start_work(request: dict[str, str]) -> dict[str, str]:
    """Invoke the worker for this request (runs once per idempotency key)."""
    _worker_invoker()(
        {"job_id": request["job_id"], "kind": request["kind"], "owner_id": request["owner_id"]}
    )
    metrics.add_metric(name="JobsSubmitted", unit=MetricUnit.Count, value=1)
    logger.info("job handed to the worker", extra={"job_id": request["job_id"]})
    return {"job_id": request["job_id"]}


@functools.cache
def _idempotent() -> tuple[IdempotencyConfig, Callable[..., dict[str, str]]]:
    config = IdempotencyConfig(
        event_key_jmespath="idempotency_key",
        payload_validation_jmespath="[job_id, kind, owner_id]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_SECONDS,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table(),
        boto_config=Config(
            region_name=settings.region(),
            connect_timeout=1,
            read_timeout=2,
            retries={"total_max_attempts": 2},
        ),
    )
    start = idempotent_function(
        data_keyword_argument="request", config=config, persistence_store=persistence
    )(_start_work)
    return config, start


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request, start the worker once per key, answer 202 with the job id."""
    try:
        request = parse(event)
    except BadRequestError as exc:
        logger.info("request refused", extra={"reason": str(exc)})
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(exc)})
    config, start = _idempotent()
    config.register_lambda_context(context)
    try:
        return _response(202, start(request=request))
    except IdempotencyValidationError:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return _response(409, {"message": "this Idempotency-Key was used for another job"})
    except IdempotencyAlreadyInProgressError:
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return _response(409, {"message": "a request with this Idempotency-Key is in progress"})
