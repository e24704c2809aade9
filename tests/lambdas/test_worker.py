"""Worker and sweep: jobs run, fail with a readable reason, give up after retries, time out."""

import threading
import time

import pytest

from datalayer.jobs import (
    TOOK_TOO_LONG,
    JobKind,
    JobStatus,
    job_create,
    job_get,
    job_mark_running,
)
from lambdas import sweep, worker
from lambdas.work import REGISTRY, JobError
from lambdas.work.base import not_available
from lambdas.worker import GAVE_UP, UNEXPECTED, fail_after_retries, run_job
from local.gateway import LambdaContext, failure_record

OWNER = "b" * 32


def _queued(kind: JobKind = JobKind.EXPORT, key: str = "key-1", run_seconds: int = 60):
    job, _ = job_create(
        owner_id=OWNER, kind=kind, params={}, idempotency_key=key, run_seconds=run_seconds
    )
    return job


def _event(job) -> dict:
    return {"job_id": job.id, "kind": str(job.kind), "owner_id": job.owner_id}


def _context(name: str = "nebula-worker") -> LambdaContext:
    return LambdaContext(name, 900, "eu-west-1")


def test_a_job_runs_reports_progress_and_succeeds_with_its_result():
    job = _queued()
    seen = []

    def work(job, progress):
        progress(50, "Half way")
        seen.append(job_get(job_id=job.id))
        return "exports/result.zip"

    assert run_job(_event(job), registry={"export": work})["outcome"] == "succeeded"

    assert (seen[0].status, seen[0].progress, seen[0].message) == ("running", 50, "Half way")
    done = job_get(job_id=job.id)
    assert (done.status, done.result_key, done.progress) == ("succeeded", "exports/result.zip", 100)


def test_a_work_function_that_raises_a_job_error_fails_the_job_with_its_message():
    job = _queued()

    def work(job, progress):
        raise JobError("Your file has no rows.")

    assert run_job(_event(job), registry={"export": work})["outcome"] == "failed"

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "Your file has no rows.")


def test_any_other_exception_fails_the_job_with_a_readable_reason():
    job = _queued()

    def work(job, progress):
        raise KeyError("internal detail")

    run_job(_event(job), registry={"export": work})

    failed = job_get(job_id=job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == UNEXPECTED.format(name="KeyError")
    assert "internal detail" not in failed.error


def test_a_kind_without_work_fails_at_once_instead_of_staying_queued(monkeypatch):
    # Whichever kinds are built by now: this one is registered without its work.
    monkeypatch.setitem(REGISTRY, JobKind.AVATAR, not_available)
    job = _queued(kind=JobKind.AVATAR)

    worker.handler(_event(job), _context())

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (
        JobStatus.FAILED,
        "This kind of job is not available yet.",
    )


def test_a_job_that_is_not_queued_is_left_alone():
    job = _queued()
    job_mark_running(job_id=job.id)
    ran = []

    outcome = run_job(_event(job), registry={"export": lambda job, progress: ran.append(1)})

    assert outcome["outcome"] == "skipped"
    assert ran == []
    assert job_get(job_id=job.id).status == JobStatus.RUNNING


def test_the_on_failure_destination_fails_the_job_after_the_last_retry():
    job = _queued()
    job_mark_running(job_id=job.id)
    record = failure_record("nebula-worker", _event(job), TimeoutError("Task timed out"), 3)

    assert worker.on_failure(record, _context("nebula-worker-failed")) == {"failed": True}

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, GAVE_UP.format(attempts=3))


def test_the_on_failure_destination_leaves_a_finished_job_alone():
    job = _queued()
    run_job(_event(job), registry={"export": lambda job, progress: "key"})

    assert fail_after_retries(failure_record("w", _event(job), ValueError(), 3)) is False
    assert job_get(job_id=job.id).status == JobStatus.SUCCEEDED


def test_the_sweep_fails_a_job_that_hangs_past_its_deadline():
    job = _queued(run_seconds=1)
    release = threading.Event()
    outcome = {}

    def hang(job, progress):
        release.wait(10)
        return "late.zip"

    thread = threading.Thread(
        target=lambda: outcome.update(run_job(_event(job), registry={"export": hang}))
    )
    thread.start()
    try:
        time.sleep(2.1)  # deadlines are whole epoch seconds
        assert sweep.handler({}, _context("nebula-sweep")) == {"swept": 1}
    finally:
        release.set()
        thread.join(10)

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, TOOK_TOO_LONG)
    assert outcome["outcome"] == "abandoned"  # its late result does not overwrite the failure


@pytest.mark.no_dynamodb
def test_every_job_kind_has_a_work_function():
    from lambdas.work import REGISTRY

    assert set(REGISTRY) == set(JobKind)
