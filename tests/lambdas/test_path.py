"""The whole jobs path over HTTP: the site's client → local gateway → submit → worker.

Everything real but AWS itself: jobs.api signs with botocore, the gateway verifies
and runs the handlers, submit invokes the worker through Lambda's Invoke API (the
gateway's), the job record and the idempotency records live on the moto server.
"""

import io
import json
import threading
import time
import urllib.error
import urllib.request
import zipfile

import boto3
import pytest

from datalayer.jobs import (
    TOOK_TOO_LONG,
    JobKind,
    JobStatus,
    job_could_not_start,
    job_create,
    job_get,
    job_retry,
)
from jobs.api import JobsApiUnavailableError, start_job
from lambdas import work, worker
from lambdas.work import JobError, export
from lambdas.worker import GAVE_UP
from tests.lambdas.conftest import MEDIA_BUCKET
from tests.support import free_port

OWNER = "e" * 32


@pytest.fixture
def site(gateway, settings):
    """Point the site's client at the gateway."""
    settings.NEBULA_JOBS_API_URL = gateway.api_url
    settings.AWS_REGION = "eu-west-1"
    return gateway


def _put_user() -> None:
    boto3.client("dynamodb", region_name="eu-west-1").put_item(
        TableName="nebula-test-users",
        Item={"id": {"S": OWNER}, "email": {"S": "eve@example.com"}, "password": {"S": "x"}},
    )


def _start(key: str, kind: JobKind = JobKind.EXPORT, run_seconds: int = 60):
    """Do what the site does: record the job, then ask the API to start it."""
    job, _ = job_create(
        owner_id=OWNER, kind=kind, params={}, idempotency_key=key, run_seconds=run_seconds
    )
    start_job(job_id=job.id, kind=str(kind), owner_id=OWNER, idempotency_key=key)
    return job


def _finished(site, job_id: str):
    assert site.runner.wait_idle(30)
    return job_get(job_id=job_id)


def test_an_export_started_by_the_site_runs_to_the_end(site, lambda_env):
    _put_user()

    job = _start("path-key-0001")

    done = _finished(site, job.id)
    assert (done.status, done.progress) == (JobStatus.SUCCEEDED, 100)
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=lambda_env)
    body = s3.get_object(Bucket=MEDIA_BUCKET, Key=done.result_key)["Body"].read()
    profile = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("profile.json"))
    assert profile["email"] == "eve@example.com"


def test_an_unsigned_request_is_refused_and_starts_nothing(site, worker_calls):
    request = urllib.request.Request(
        f"{site.api_url}/jobs",
        data=json.dumps({"job_id": "a" * 32, "kind": "export", "owner_id": OWNER}).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": "path-key-0002"},
        method="POST",
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 403
    assert site.runner.wait_idle(5)
    assert worker_calls == []


def test_the_same_idempotency_key_twice_makes_one_job_and_runs_it_once(site, worker_calls):
    _put_user()

    first = _start("path-key-0003")
    second = _start("path-key-0003")

    assert first.id == second.id
    assert _finished(site, first.id).status == JobStatus.SUCCEEDED
    assert worker_calls == [{"job_id": first.id, "kind": "export", "owner_id": OWNER}]


def test_a_worker_that_raises_fails_the_job_with_its_reason(site, monkeypatch):
    def broken(job, progress):
        progress(30, "Working")
        raise JobError("The export broke half way.")

    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, broken)

    job = _start("path-key-0004")

    failed = _finished(site, job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "The export broke half way.")


def test_a_failed_job_retried_by_its_owner_succeeds(site, monkeypatch):
    _put_user()
    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, lambda job, progress: 1 / 0)
    job = _start("path-key-0005")
    assert _finished(site, job.id).status == JobStatus.FAILED
    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, export.run)  # it works again

    job_retry(job_id=job.id)
    start_job(job_id=job.id, kind="export", owner_id=OWNER, idempotency_key="path-key-0005-r1")

    done = _finished(site, job.id)
    assert (done.status, done.error) == (JobStatus.SUCCEEDED, None)
    assert done.attempts == 2


def test_a_worker_that_crashes_every_time_is_failed_by_the_on_failure_destination(
    site, monkeypatch, worker_calls
):
    def crash(event, **kwargs):
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(worker, "run_job", crash)

    job = _start("path-key-0006")

    failed = _finished(site, job.id)
    assert len(worker_calls) == 3  # the invocation and Lambda's two retries
    assert (failed.status, failed.error) == (JobStatus.FAILED, GAVE_UP.format(attempts=3))


def test_a_worker_that_hangs_past_its_deadline_is_failed_by_the_sweep(site, monkeypatch):
    release = threading.Event()

    def hang(job, progress):
        release.wait(20)
        return "late.zip"

    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, hang)
    job = _start("path-key-0007", run_seconds=1)
    try:
        time.sleep(2.1)  # past the deadline (whole seconds)
        lambda_client = boto3.client("lambda", region_name="eu-west-1", endpoint_url=site.url)
        answer = lambda_client.invoke(FunctionName="nebula-sweep")
        assert json.loads(answer["Payload"].read()) == {"swept": 1}
    finally:
        release.set()

    failed = _finished(site, job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, TOOK_TOO_LONG)


def test_with_the_gateway_down_the_job_could_not_start_and_nothing_is_stuck(lambda_env, settings):
    settings.NEBULA_JOBS_API_URL = f"http://127.0.0.1:{free_port()}/v1"
    job, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="k8", run_seconds=60
    )

    with pytest.raises(JobsApiUnavailableError):
        start_job(job_id=job.id, kind="export", owner_id=OWNER, idempotency_key="k8")
    job_could_not_start(job_id=job.id, reason="The job could not start. Try again later.")

    assert job_get(job_id=job.id).status == JobStatus.COULD_NOT_START
    assert job_get(job_id=job.id).can_retry
