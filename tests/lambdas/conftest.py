"""Fixtures for the Lambda code: its environment, the media bucket, the local gateway."""

import os
from collections.abc import Iterator

import boto3
import pytest

from lambdas import submit, worker
from lambdas.observability import metrics
from local.gateway import Gateway
from local.sigv4 import Secret

MEDIA_BUCKET = "nebula-test-media"


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    """Start and end each test with no pending metric (as each Lambda invocation does)."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, dynamodb: str) -> str:
    """Give the handlers the environment Lambda gives them, on the moto server."""
    monkeypatch.setenv("NEBULA_TABLE_PREFIX", "nebula-test-")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dynamodb)
    monkeypatch.setenv("NEBULA_MEDIA_BUCKET", MEDIA_BUCKET)
    boto3.client("s3", region_name="eu-west-1", endpoint_url=dynamodb).create_bucket(
        Bucket=MEDIA_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return dynamodb


@pytest.fixture
def worker_calls() -> list[dict]:
    """The events the gateway ran the (real) worker handler with."""
    return []


@pytest.fixture
def gateway(
    lambda_env: str, monkeypatch: pytest.MonkeyPatch, worker_calls: list[dict]
) -> Iterator[Gateway]:
    """Serve the real handlers from the local gateway, in this process, on a free port."""
    keys = {os.environ["AWS_ACCESS_KEY_ID"]: Secret(os.environ["AWS_SECRET_ACCESS_KEY"])}

    def counted_worker(event: dict, context: object) -> object:
        worker_calls.append(event)
        return worker.handler(event, context)

    gateway = Gateway(
        keys=keys,
        region="eu-west-1",
        retry_delays=(0.05, 0.05),
        handlers={"lambdas.worker.handler": counted_worker},
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", gateway.url)
    submit.use_worker_invoker(None)  # a fresh Lambda client, for this gateway's URL
    gateway.start()
    yield gateway
    gateway.stop()
    submit.use_worker_invoker(None)
