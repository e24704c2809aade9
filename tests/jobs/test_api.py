"""jobs.api, the site's client of the jobs API, against the real local gateway."""

import json
import socket
from typing import Any

import pytest

from jobs import api
from jobs.api import JobsApiRejectedError, JobsApiUnavailableError, start_job
from local.gateway import Gateway
from local.sigv4 import Secret
from tests.support import free_port

REGION = "eu-west-1"
JOB = {"job_id": "a" * 32, "kind": "export", "owner_id": "b" * 32}


class Answer:
    """A stand-in for the submit handler: records the event, answers a fixed status."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": self.status, "body": json.dumps({"message": "answer"})}


@pytest.fixture
def answer() -> Answer:
    return Answer()


@pytest.fixture
def gateway(answer: Answer, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "site-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "site-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    api._session.cache_clear()
    gateway = Gateway(
        keys={"site-key": Secret("site-secret")},
        region=REGION,
        handlers={"lambdas.submit.handler": answer},
    ).start()
    settings.NEBULA_JOBS_API_URL = gateway.api_url
    settings.AWS_REGION = REGION
    yield gateway
    gateway.stop()
    api._session.cache_clear()


pytestmark = pytest.mark.no_dynamodb


def test_a_signed_request_is_accepted_and_carries_the_job(gateway, answer):
    start_job(**JOB, idempotency_key="key-00000001")

    [event] = answer.events
    assert json.loads(event["body"]) == JOB
    assert event["headers"]["Idempotency-Key"] == "key-00000001"
    assert event["requestContext"]["identity"]["accessKey"] == "site-key"


def test_wrong_credentials_are_refused_and_raise_unavailable(gateway, answer, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    api._session.cache_clear()

    with pytest.raises(JobsApiUnavailableError, match="403"):
        start_job(**JOB, idempotency_key="key-00000001")
    assert answer.events == []


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_failing_api_raises_unavailable(gateway, answer, status):
    answer.status = status

    with pytest.raises(JobsApiUnavailableError):
        start_job(**JOB, idempotency_key="key-00000001")


@pytest.mark.parametrize("status", [400, 409])
def test_a_refused_request_raises_rejected(gateway, answer, status):
    answer.status = status

    with pytest.raises(JobsApiRejectedError):
        start_job(**JOB, idempotency_key="key-00000001")


def test_nothing_listening_raises_unavailable_quickly(settings):
    settings.NEBULA_JOBS_API_URL = f"http://127.0.0.1:{free_port()}/v1"

    with pytest.raises(JobsApiUnavailableError, match="could not be reached"):
        start_job(**JOB, idempotency_key="key-00000001")


def test_a_hung_api_raises_unavailable_within_the_read_timeout(settings):
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings.NEBULA_JOBS_API_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        settings.NEBULA_JOBS_API_READ_TIMEOUT = 0.3

        with pytest.raises(JobsApiUnavailableError):
            start_job(**JOB, idempotency_key="key-00000001")


def test_no_api_url_raises_unavailable(settings):
    settings.NEBULA_JOBS_API_URL = ""

    with pytest.raises(JobsApiUnavailableError, match="NEBULA_JOBS_API_URL"):
        start_job(**JOB, idempotency_key="key-00000001")
