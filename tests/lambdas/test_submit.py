"""Submit: requests validated against the API document; the worker started once per key."""

import base64
import json
from typing import Any

import pytest

from lambdas import submit
from lambdas.submit import MAX_BODY_BYTES, BadRequestError, parse
from local.gateway import LambdaContext

KEY = "key-00000001"
BODY = {"job_id": "a" * 32, "kind": "export", "owner_id": "b" * 32}


def event(body: Any = BODY, headers: dict[str, str] | None = None, **extra: Any) -> dict:
    """Return a proxy event as API Gateway sends it."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return {
        "httpMethod": "POST",
        "path": "/jobs",
        "headers": {"Idempotency-Key": KEY} if headers is None else headers,
        "body": raw,
        "isBase64Encoded": False,
        **extra,
    }


@pytest.mark.no_dynamodb
def test_a_valid_request_parses():
    assert parse(event()) == {"idempotency_key": KEY, **BODY}


@pytest.mark.no_dynamodb
def test_header_names_are_matched_whatever_their_case():
    assert parse(event(headers={"IDEMPOTENCY-KEY": KEY}))["idempotency_key"] == KEY


@pytest.mark.no_dynamodb
def test_a_base64_body_is_decoded():
    raw = base64.b64encode(json.dumps(BODY).encode()).decode()

    assert parse(event(raw, isBase64Encoded=True))["job_id"] == BODY["job_id"]


BAD = {
    "no idempotency key": event(headers={}),
    "a short idempotency key": event(headers={"Idempotency-Key": "k"}),
    "an idempotency key with spaces": event(headers={"Idempotency-Key": "key with spaces"}),
    "no body": event(None) | {"body": None},
    "not JSON": event("{not json"),
    "a JSON list": event([1, 2]),
    "deeply nested JSON": event("[" * 3000 + "]" * 3000),
    "a missing field": event({k: v for k, v in BODY.items() if k != "kind"}),
    "an unknown kind": event({**BODY, "kind": "mine-bitcoin"}),
    "an extra field": event({**BODY, "priority": 9}),
    "a job id with a slash": event({**BODY, "job_id": "a/b"}),
    "a number for a string": event({**BODY, "owner_id": 7}),
    "an oversized body": event({**BODY, "pad": "x" * MAX_BODY_BYTES}),
    "an oversized field": event({**BODY, "job_id": "a" * 65}),
    "invalid base64": event("%%%", isBase64Encoded=True),
    "invalid UTF-8": event(base64.b64encode(b"\xff\xfe").decode(), isBase64Encoded=True),
}


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_request_the_document_does_not_allow_is_refused(case):
    with pytest.raises(BadRequestError):
        parse(BAD[case])


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_the_handler_answers_400_with_a_message(case):
    response = submit.handler(BAD[case], LambdaContext("nebula-submit", 10, "eu-west-1"))

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"]


class Invocations(list):
    """A worker invoker that records its payloads."""

    def __call__(self, payload: dict) -> None:
        self.append(payload)


@pytest.fixture
def invocations(lambda_env) -> Invocations:
    recorded = Invocations()
    submit.use_worker_invoker(recorded)
    yield recorded
    submit.use_worker_invoker(None)


def _handle(request: dict) -> dict:
    return submit.handler(request, LambdaContext("nebula-submit", 10, "eu-west-1"))


def test_a_valid_request_starts_the_worker_and_answers_202_with_the_job_id(invocations):
    response = _handle(event())

    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"job_id": BODY["job_id"]}
    assert invocations == [BODY]


def test_the_same_key_twice_starts_the_worker_once_and_answers_the_same(invocations):
    first, second = _handle(event()), _handle(event())

    assert first["statusCode"] == second["statusCode"] == 202
    assert first["body"] == second["body"]
    assert invocations == [BODY]


def test_the_same_key_for_another_job_is_a_409(invocations):
    _handle(event())

    response = _handle(event({**BODY, "job_id": "c" * 32}))

    assert response["statusCode"] == 409
    assert invocations == [BODY]


def test_another_key_starts_the_worker_again(invocations):
    _handle(event())
    _handle(event(headers={"Idempotency-Key": "key-00000002"}))

    assert invocations == [BODY, BODY]


def test_a_failed_invocation_can_be_retried_with_the_same_key(lambda_env):
    calls = []

    def flaky(payload: dict) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("Lambda throttled")

    submit.use_worker_invoker(flaky)
    try:
        with pytest.raises(RuntimeError):
            _handle(event())
        assert _handle(event())["statusCode"] == 202
    finally:
        submit.use_worker_invoker(None)
    assert calls == [BODY, BODY]
