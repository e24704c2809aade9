"""``manage.py sweepjobs``: late jobs are failed once, and DynamoDB down is one line."""

import io
import os
from datetime import UTC, datetime, timedelta

from django.core.management import call_command

from datalayer.jobs import TOOK_TOO_LONG_TO_START, Job, JobKind, JobStatus, job_create, job_get
from tests.support import manage

OWNER = "c" * 32


def _job(key: str, *, late: bool) -> Job:
    job, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key=key, run_seconds=600
    )
    if late:
        Job(id=job.id).update(actions=[Job.deadline.set(datetime.now(UTC) - timedelta(minutes=1))])
    return job


def _sweep() -> str:
    out = io.StringIO()
    call_command("sweepjobs", stdout=out)
    return out.getvalue().strip()


def test_sweepjobs_fails_a_job_past_its_deadline_once() -> None:
    late = _job("late-job-0001", late=True)
    on_time = _job("on-time-job-0001", late=False)

    first = _sweep()
    second = _sweep()

    assert first == "Failed 1 job past their deadline."
    assert second == "Failed 0 jobs past their deadline."
    failed = job_get(job_id=late.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, TOOK_TOO_LONG_TO_START)
    assert job_get(job_id=on_time.id).status == JobStatus.QUEUED


def test_sweepjobs_exits_0_when_it_swept() -> None:
    _job("late-job-0002", late=True)
    env = {**os.environ}

    result = manage("sweepjobs", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Failed 1 job past their deadline."


def test_sweepjobs_with_dynamodb_unreachable_is_one_line_and_exit_status_1() -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}

    result = manage("sweepjobs", env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: DynamoDB is unreachable: ")
