"""The local gateway: SigV4 verification like AWS_IAM, proxy events, Lambda's async behaviour.

Requests are signed with botocore's own signer and sent over real HTTP; every way of
tampering with a signed request must get a 403, and never a 5xx.
"""

import datetime as dt
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from local.gateway import FUNCTIONS, Gateway, failure_record
from local.sigv4 import Secret

pytestmark = pytest.mark.no_dynamodb

REGION = "eu-west-1"
KEY, SECRET = "AKIDLOCAL", "local-secret"
BODY = b'{"job_id": "j1", "kind": "export", "owner_id": "u1"}'


class Recorder:
    """A stand-in handler that records its events and answers 200 with a fixed body."""

    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.fail_times = fail_times
        self.called = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        self.called.set()
        if len(self.events) <= self.fail_times:
            raise RuntimeError(f"attempt {len(self.events)} failed")
        return {"statusCode": 200, "headers": {"X-Handled": "yes"}, "body": "handled"}


@pytest.fixture
def handlers() -> dict[str, Recorder]:
    return {
        "lambdas.submit.handler": Recorder(),
        "lambdas.worker.handler": Recorder(fail_times=99),
        "lambdas.worker.on_failure": Recorder(),
    }


@pytest.fixture
def gateway(handlers: dict[str, Recorder]) -> Iterator[Gateway]:
    gateway = Gateway(
        keys={KEY: Secret(SECRET), "ASIATEMP": Secret("temp-secret", "the-session-token")},
        region=REGION,
        retry_delays=(0.01, 0.01),
        handlers=handlers,
    ).start()
    yield gateway
    gateway.stop()


def signed(
    gateway: Gateway,
    *,
    path: str = "/v1/jobs",
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    credentials: Credentials | None = None,
    region: str = REGION,
    service: str = "execute-api",
    at: dt.datetime | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a POST with botocore as the site does; return the target and the headers."""
    request = AWSRequest(
        method="POST",
        url=gateway.url + path,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        params=params or {},
    )
    signer = SigV4Auth(credentials or Credentials(KEY, SECRET), service, region)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    prepared = request.prepare()
    target = prepared.url.removeprefix(gateway.url)
    return target, dict(prepared.headers.items())


def send(
    gateway: Gateway, target: str, headers: dict[str, str], body: bytes = BODY, method="POST"
) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these bytes; return the status, the headers and the body."""
    port = gateway.server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": f"127.0.0.1:{port}", **headers, "Content-Length": str(len(body))}
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_signed_request_reaches_the_handler_as_a_proxy_event(gateway, handlers):
    target, headers = signed(gateway, headers={"Idempotency-Key": "key-0001"}, params={"a": "b c"})

    status, response_headers, body = send(gateway, target, headers)

    assert (status, body, response_headers["X-Handled"]) == (200, b"handled", "yes")
    event = handlers["lambdas.submit.handler"].events[0]
    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/jobs"
    assert event["path"] == "/jobs"
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["identity"]["accessKey"] == KEY
    assert event["headers"]["Idempotency-Key"] == "key-0001"
    assert event["queryStringParameters"] == {"a": "b c"}
    assert event["body"] == BODY.decode()
    assert event["isBase64Encoded"] is False
    context = handlers["lambdas.submit.handler"].contexts[0]
    assert context.get_remaining_time_in_millis() > 0
    assert context.aws_request_id
    assert context.function_name == "nebula-submit"


def test_temporary_credentials_with_their_session_token_are_accepted(gateway):
    credentials = Credentials("ASIATEMP", "temp-secret", "the-session-token")
    target, headers = signed(gateway, credentials=credentials)

    assert send(gateway, target, headers)[0] == 200


def test_a_signature_a_few_minutes_old_is_still_accepted(gateway):
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4)
    target, headers = signed(gateway, at=at)

    assert send(gateway, target, headers)[0] == 200


def test_an_unsigned_request_is_refused(gateway, handlers):
    status, headers, body = send(gateway, "/v1/jobs", {"Content-Type": "application/json"})

    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(body) == {"message": "Missing Authentication Token"}
    assert handlers["lambdas.submit.handler"].events == []


def _tampered_body(gateway):
    target, headers = signed(gateway)
    return target, headers, BODY.replace(b"export", b"import")


def _tampered_signed_header(gateway):
    target, headers = signed(gateway, headers={"Idempotency-Key": "key-0001"})
    return target, {**headers, "Idempotency-Key": "key-0002"}, BODY


def _tampered_content_type(gateway):
    target, headers = signed(gateway)
    return target, {**headers, "Content-Type": "text/plain"}, BODY


def _tampered_query(gateway):
    target, headers = signed(gateway, params={"page": "1"})
    return target.replace("page=1", "page=2"), headers, BODY


def _added_query(gateway):
    target, headers = signed(gateway)
    return target + "?page=2", headers, BODY


def _tampered_path(gateway):
    target, headers = signed(gateway, path="/v1/elsewhere")
    return target.replace("/v1/elsewhere", "/v1/jobs"), headers, BODY


def _rewritten_host(gateway):
    target, headers = signed(gateway)
    return target, {**headers, "Host": "localhost:1"}, BODY


def _wrong_secret(gateway):
    return (*signed(gateway, credentials=Credentials(KEY, "not-the-secret")), BODY)


def _unknown_key(gateway):
    return (*signed(gateway, credentials=Credentials("AKIDUNKNOWN", SECRET)), BODY)


def _stale_date(gateway):
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
    return (*signed(gateway, at=at), BODY)


def _future_date(gateway):
    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    return (*signed(gateway, at=at), BODY)


def _other_region(gateway):
    return (*signed(gateway, region="us-east-1"), BODY)


def _other_service(gateway):
    return (*signed(gateway, service="s3"), BODY)


def _session_token_dropped(gateway):
    credentials = Credentials("ASIATEMP", "temp-secret", "the-session-token")
    target, headers = signed(gateway, credentials=credentials)
    headers.pop("X-Amz-Security-Token")
    return target, headers, BODY


def _wrong_session_token(gateway):
    credentials = Credentials("ASIATEMP", "temp-secret", "another-session-token")
    return (*signed(gateway, credentials=credentials), BODY)


def _unsigned_payload_declared(gateway):
    target, headers = signed(gateway, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    return target, headers, BODY.replace(b"export", b"import")


def _date_header_replaced(gateway):
    target, headers = signed(gateway)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    return target, {**headers, "X-Amz-Date": later.strftime("%Y%m%dT%H%M%SZ")}, BODY


TAMPERINGS = {
    "body": _tampered_body,
    "a signed header": _tampered_signed_header,
    "content type": _tampered_content_type,
    "query value": _tampered_query,
    "query added": _added_query,
    "path": _tampered_path,
    "host": _rewritten_host,
    "wrong secret": _wrong_secret,
    "unknown key": _unknown_key,
    "stale date": _stale_date,
    "future date": _future_date,
    "other region": _other_region,
    "other service": _other_service,
    "session token dropped": _session_token_dropped,
    "wrong session token": _wrong_session_token,
    "UNSIGNED-PAYLOAD with another body": _unsigned_payload_declared,
    "x-amz-date changed": _date_header_replaced,
}


@pytest.mark.parametrize("case", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_tampered_or_wrongly_signed_request_is_refused(gateway, handlers, case):
    target, headers, body = TAMPERINGS[case](gateway)

    status, response_headers, response = send(gateway, target, headers, body)

    assert status == 403, response
    assert response_headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert handlers["lambdas.submit.handler"].events == []


GARBAGE = [
    "",
    "Bearer abc",
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
    "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=zz",
    "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/x/aws4_request, SignedHeaders=host;x-amz-date, "
    "Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=x-amz-date;host, Signature=" + "0" * 64,
    "\u00e9\u00e9\u00e9 \u2603",
    "AWS4-HMAC-SHA256 " + "A" * 10000,
]


@pytest.mark.parametrize("authorization", GARBAGE)
def test_a_garbage_authorization_header_is_a_403_never_a_5xx(gateway, authorization):
    target, headers = signed(gateway)
    headers["Authorization"] = authorization.encode().decode("latin-1")

    status, _, _ = send(gateway, target, headers)

    assert status == 403


def test_garbage_in_the_date_and_the_target_is_a_403(gateway):
    target, headers = signed(gateway)
    for name, value in (("X-Amz-Date", "yesterday"), ("X-Amz-Date", "20269999T999999Z")):
        assert send(gateway, target, {**headers, name: value})[0] == 403
    assert send(gateway, target + "?a=%zz%", headers)[0] == 403


def test_an_unknown_route_is_a_403_as_api_gateway_answers(gateway):
    target, headers = signed(gateway, path="/v1/nothing")

    status, headers, body = send(gateway, target, headers)

    assert status == 403
    assert json.loads(body) == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("method", ["GET", "TRACE", "OPTIONS", "HEAD", "BREW"])
def test_an_undeclared_method_is_a_403_as_api_gateway_answers(gateway, method):
    status, headers, _ = send(gateway, "/v1/jobs", {}, b"", method=method)

    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_a_handler_that_raises_is_a_502(gateway, handlers):
    handlers["lambdas.submit.handler"].fail_times = 1
    target, headers = signed(gateway)

    status, _, body = send(gateway, target, headers)

    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})


def test_the_api_document_is_served_unsigned(gateway):
    status, _, body = send(gateway, "/openapi.json", {}, b"", method="GET")

    assert status == 200
    assert "/jobs" in json.loads(body)["paths"]


def _lambda_client(gateway: Gateway, secret: str = SECRET):
    return boto3.client(
        "lambda",
        endpoint_url=gateway.url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=secret,
    )


def test_an_event_invocation_is_retried_twice_then_reaches_the_on_failure_destination(
    gateway, handlers
):
    event = {"job_id": "j1", "kind": "export", "owner_id": "u1"}

    response = _lambda_client(gateway).invoke(
        FunctionName="nebula-worker", InvocationType="Event", Payload=json.dumps(event)
    )

    assert response["StatusCode"] == 202
    assert gateway.runner.wait_idle(10)
    assert handlers["lambdas.worker.handler"].events == [event, event, event]
    [record] = handlers["lambdas.worker.on_failure"].events
    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "attempt 3 failed"


def test_an_event_invocation_that_succeeds_on_a_retry_reaches_no_destination(gateway, handlers):
    handlers["lambdas.worker.handler"].fail_times = 2

    _lambda_client(gateway).invoke(FunctionName="nebula-worker", InvocationType="Event")

    assert gateway.runner.wait_idle(10)
    assert len(handlers["lambdas.worker.handler"].events) == 3
    assert handlers["lambdas.worker.on_failure"].events == []


def test_an_invocation_signed_with_a_wrong_secret_is_refused(gateway, handlers):
    client = _lambda_client(gateway, secret="wrong")

    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="nebula-worker", InvocationType="Event")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert handlers["lambdas.worker.handler"].events == []


def test_an_unknown_function_is_not_found(gateway):
    with pytest.raises(ClientError) as caught:
        _lambda_client(gateway).invoke(FunctionName="nebula-nothing", InvocationType="Event")

    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_every_function_with_a_destination_names_a_declared_function():
    for function in FUNCTIONS.values():
        assert function.on_failure is None or function.on_failure in FUNCTIONS


def test_the_failure_record_keeps_the_event_and_the_error():
    record = failure_record("nebula-worker", {"job_id": "j"}, ValueError("bad"), 3)

    assert record["requestPayload"] == {"job_id": "j"}
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "ValueError"
