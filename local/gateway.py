"""The local API Gateway and Lambda: the real handlers behind the routes of the API document.

    python -m local.gateway --port 8002

- **API**: serves the routes of ``lambdas/openapi.json`` under its stage (``/v1/jobs``),
  each run by the handler its ``x-nebula-handler`` names, with an API Gateway proxy
  event and a Lambda context. Every request is verified like ``AWS_IAM`` authorisation
  (``local.sigv4``, service ``execute-api``): unsigned or wrongly signed → 403 and the
  handler never runs; an unknown route → 403 ``Missing Authentication Token``, as API
  Gateway answers; a handler that raises → 502, as API Gateway answers a Lambda error.
- **Lambda ``Invoke``** (``POST /2015-03-31/functions/<name>/invocations``, signed for
  service ``lambda``): what ``AWS_ENDPOINT_URL_LAMBDA`` points botocore at, so submit's
  ``Invoke(InvocationType="Event")`` is the same call locally and in AWS.
  ``Event`` answers 202 and runs the function in a background thread with Lambda's
  asynchronous behaviour: two retries after an error, then the function's on-failure
  destination gets Lambda's destination record. ``RequestResponse`` runs it at once.
- ``GET /openapi.json`` returns the document, unsigned (for people and schemathesis).

It accepts the credentials in its own environment (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``): the ones ``make run`` gives the site.
It prints ``READY`` on stdout once it listens. Function timeouts are not enforced
(a thread cannot be stopped): the sweep fails a job that runs past its deadline.
"""

import argparse
import base64
import contextlib
import datetime as dt
import importlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from botocore.exceptions import ClientError

from lambdas import api

from .sigv4 import Secret, SignatureError, verify

logger = logging.getLogger("nebula.gateway")

ACCOUNT_ID = "000000000000"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# Lambda retries a failed asynchronous invocation twice (after ~1 and ~2 minutes).
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0)
_INVOKE_RE = re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/invocations")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Function:
    """One Lambda function as the template declares it (handler, on-failure destination)."""

    handler: str
    on_failure: str | None = None
    timeout_seconds: int = 900


# Must match the functions of the template (docs/jobs.md, "Functions").
FUNCTIONS: dict[str, Function] = {
    "nebula-submit": Function("lambdas.submit.handler", timeout_seconds=10),
    "nebula-worker": Function("lambdas.worker.handler", on_failure="nebula-worker-failed"),
    "nebula-worker-failed": Function("lambdas.worker.on_failure", timeout_seconds=60),
    "nebula-sweep": Function("lambdas.sweep.handler", timeout_seconds=60),
}


def _function_of(handler: str) -> str:
    """Return the name of the function whose handler this is (the handler itself if none)."""
    return next((name for name, f in FUNCTIONS.items() if f.handler == handler), handler)


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    timeout_seconds: int
    region: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class AsyncRunner:
    """Run functions in background threads with Lambda's retries and on-failure destination."""

    def __init__(self, call: Callable[[str, dict], Any], retry_delays: Sequence[float]) -> None:
        self._call = call
        self._retry_delays = tuple(retry_delays)
        self._pending = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()

    def submit(self, function_name: str, event: dict[str, Any]) -> None:
        """Queue one asynchronous invocation."""
        with self._idle:
            self._pending += 1
        threading.Thread(
            target=self._run, args=(function_name, event), name=f"async-{function_name}"
        ).start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation is running or waiting to retry; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        """Cut retry waits short (their invocations end without a destination)."""
        self._stopping.set()

    def _run(self, function_name: str, event: dict[str, Any]) -> None:
        try:
            self._attempts(function_name, event)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _attempts(self, function_name: str, event: dict[str, Any]) -> None:
        error: BaseException | None = None
        attempts = 1 + len(self._retry_delays)
        for attempt in range(attempts):
            if attempt and self._stopping.wait(self._retry_delays[attempt - 1]):
                return
            try:
                self._call(function_name, event)
            except Exception as exc:  # noqa: BLE001 - Lambda retries whatever a handler raised
                error = exc
                logger.warning(
                    "%s failed (attempt %d of %d): %s: %s",
                    function_name,
                    attempt + 1,
                    attempts,
                    exc.__class__.__name__,
                    exc,
                )
            else:
                return
        destination = FUNCTIONS.get(function_name, Function("")).on_failure
        if destination is None or error is None:
            logger.error(
                "%s exhausted its retries; it has no on-failure destination", function_name
            )
            return
        record = failure_record(function_name, event, error, attempts)
        try:
            self._call(destination, record)
        except Exception:
            logger.exception("the on-failure destination %s failed too", destination)


def failure_record(
    function_name: str, event: dict[str, Any], error: BaseException, attempts: int
) -> dict[str, Any]:
    """Return what Lambda sends an on-failure destination after the last retry."""
    return {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:local:{ACCOUNT_ID}:function:{function_name}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": str(error),
            "errorType": error.__class__.__name__,
            "stackTrace": traceback.format_exception(error)[-3:],
        },
    }


@dataclass(frozen=True)
class _Route:
    route: api.Route
    pattern: re.Pattern[str]


def _compile(route: api.Route) -> _Route:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
    return _Route(route, re.compile(regex))


class Gateway:
    """The HTTP server; ``start()`` serves from a thread, ``stop()`` ends it."""

    def __init__(
        self,
        *,
        keys: Mapping[str, Secret],
        region: str,
        port: int = 0,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        """``handlers`` replaces handlers by dotted name (tests); the rest are imported."""
        self.keys = dict(keys)
        self.region = region
        self.routes = [_compile(route) for route in api.routes()]
        self.stage = api.stage()
        self._handlers = dict(handlers or {})
        self.runner = AsyncRunner(self.call_function, retry_delays)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _RequestHandler)
        self.server.daemon_threads = True
        self.server.gateway = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the gateway's base URL (the Lambda endpoint)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """Return the API's base URL, stage included (``NEBULA_JOBS_API_URL``)."""
        return self.url + self.stage

    def start(self) -> "Gateway":
        """Serve from a background thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop answering, then wait (up to ``timeout``) for background invocations."""
        self.server.shutdown()
        self.server.server_close()
        self.runner.stop()
        self.runner.wait_idle(timeout)

    def handler(self, dotted: str) -> Handler:
        """Return the handler named ``module.function``."""
        if dotted not in self._handlers:
            module, _, name = dotted.rpartition(".")
            self._handlers[dotted] = getattr(importlib.import_module(module), name)
        return self._handlers[dotted]

    def call_function(self, function_name: str, event: dict[str, Any]) -> Any:
        """Run one function with ``event`` and a fresh context; its exception propagates."""
        function = FUNCTIONS[function_name]
        context = LambdaContext(function_name, function.timeout_seconds, self.region)
        return self.handler(function.handler)(event, context)

    def match(self, method: str, path: str) -> tuple[api.Route, dict[str, str]] | None:
        """Return the route for ``method`` and the path without the stage, and its parameters."""
        for compiled in self.routes:
            found = compiled.pattern.fullmatch(path)
            if found and compiled.route.method == method:
                return compiled.route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


def proxy_event(
    *,
    route: api.Route,
    stage: str,
    method: str,
    target: str,
    path_parameters: dict[str, str],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    access_key: str,
    source_ip: str,
) -> dict[str, Any]:
    """Return the API Gateway (REST, proxy integration) event for one request."""
    parts = urlsplit(target)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query_single = dict(query)
    query_multi: dict[str, list[str]] = {}
    for name, value in query:
        query_multi.setdefault(name, []).append(value)
    try:
        text, is_base64 = body.decode(), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    now = time.time()
    path = unquote(parts.path)
    return {
        "resource": route.path,
        "path": path.removeprefix(stage),
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": path,
            "stage": stage.strip("/"),
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "requestTime": dt.datetime.fromtimestamp(now, dt.UTC).strftime(
                "%d/%b/%Y:%H:%M:%S +0000"
            ),
            "operationName": route.operation_id,
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "identity": {
                "accessKey": access_key,
                "accountId": ACCOUNT_ID,
                "caller": access_key,
                "sourceIp": source_ip,
                "userAgent": single.get("User-Agent", ""),
            },
        },
        "body": text or None,
        "isBase64Encoded": is_base64,
    }


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "NebulaLocalGateway"
    protocol_version = "HTTP/1.1"

    @property
    def gateway(self) -> Gateway:
        return self.server.gateway  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, OPTIONS, made-up ones) reaches routing: an undeclared
        # one gets API Gateway's 403, never http.server's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def _forbidden(self, message: str, error_type: str) -> None:
        self._json(403, {"message": message}, {"x-amzn-ErrorType": error_type})

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            self._json(400, {"message": "Content-Length is not a number"})
            return None
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            self._json(413, {"message": "Request Too Long"})
            return None
        return self.rfile.read(int(length))

    def _verify(self, body: bytes, service: str) -> str | None:
        try:
            identity = verify(
                method=self.command,
                raw_target=self.path,
                headers=list(self.headers.items()),
                body=body,
                keys=self.gateway.keys,
                region=self.gateway.region,
                service=service,
            )
        except SignatureError as exc:
            logger.warning("refused %s %s: %s", self.command, self.path, exc)
            missing = str(exc) == "Missing Authentication Token"
            self._forbidden(
                str(exc),
                "MissingAuthenticationTokenException" if missing else "InvalidSignatureException",
            )
            return None
        return identity.access_key

    def _handle(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path = urlsplit(self.path).path
        if self.command == "GET" and path == "/openapi.json":
            self._send(200, api.DOCUMENT.read_bytes(), {"Content-Type": "application/json"})
            return
        invoke = _INVOKE_RE.fullmatch(path)
        if invoke and self.command == "POST":
            self._invoke(unquote(invoke["name"]), body)
            return
        stage = self.gateway.stage
        matched = None
        if path.startswith(stage + "/"):
            matched = self.gateway.match(self.command, unquote(path).removeprefix(stage))
        if matched is None:
            self._forbidden("Missing Authentication Token", "MissingAuthenticationTokenException")
            return
        access_key = self._verify(body, "execute-api")
        if access_key is None:
            return
        route, parameters = matched
        event = proxy_event(
            route=route,
            stage=stage,
            method=self.command,
            target=self.path,
            path_parameters=parameters,
            headers=list(self.headers.items()),
            body=body,
            access_key=access_key,
            source_ip=self.client_address[0],
        )
        context = LambdaContext(_function_of(route.handler), 29, self.gateway.region)
        try:
            result = self.gateway.handler(route.handler)(event, context)
            status = int(result["statusCode"])
            headers = dict(result.get("headers") or {})
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        except Exception:
            logger.exception("%s failed", route.handler)
            self._json(502, {"message": "Internal server error"})
            return
        self._send(status, data, headers)

    def _invoke(self, name: str, body: bytes) -> None:
        if self._verify(body, "lambda") is None:
            return
        if name.rsplit(":", 1)[-1] in FUNCTIONS:  # a name or an ARN
            name = name.rsplit(":", 1)[-1]
        if name not in FUNCTIONS:
            self._json(
                404,
                {"Type": "User", "Message": f"Function not found: {name}"},
                {"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
            return
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            self._json(
                400,
                {"Type": "User", "Message": "Could not parse request body into json"},
                {"x-amzn-ErrorType": "InvalidRequestContentException"},
            )
            return
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "Event":
            self.gateway.runner.submit(name, event)
            self._send(202, b"")
            return
        try:
            result = self.gateway.call_function(name, event)
        except Exception as exc:
            logger.exception("%s failed", name)
            error = {"errorMessage": str(exc), "errorType": exc.__class__.__name__}
            self._json(200, error, {"X-Amz-Function-Error": "Unhandled"})
            return
        self._json(200, result)


def keys_from_environment() -> dict[str, Secret]:
    """Return the one key this gateway accepts: the credentials in its environment."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        raise SystemExit("gateway: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    return {access_key: Secret(secret_key, os.environ.get("AWS_SESSION_TOKEN") or None)}


def ensure_media_bucket() -> None:
    """Create the media bucket (``NEBULA_MEDIA_BUCKET``) on the stand-in if it is missing."""
    bucket = os.environ.get("NEBULA_MEDIA_BUCKET")
    if not bucket:
        return
    region = os.environ.get("AWS_REGION", "eu-west-1")
    s3 = boto3.client("s3", region_name=region)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        logger.info("created the media bucket %s", bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("NEBULA_GATEWAY_PORT", "8002"))
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    region = os.environ.get("AWS_REGION", "eu-west-1")
    gateway = Gateway(keys=keys_from_environment(), region=region, port=args.port)
    # The handlers' own botocore clients reach Lambda here: submit's Invoke comes back.
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = gateway.url
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ensure_media_bucket()
    gateway.start()
    logger.info("gateway ready on %s (API %s)", gateway.url, gateway.api_url)
    print("READY", flush=True)
    # From now on the handlers' JSON logs and EMF lines go where stderr goes (the
    # terminal): nobody reads the pipe on stdout after READY, and a full pipe blocks.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
