"""The job record: idempotent creation, legal and refused moves, pages, and the sweep."""

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from datalayer import jobs
from datalayer.calls import counting_calls
from datalayer.counters import JOBS, counter_get_many, status_name
from datalayer.cursors import InvalidCursorError, encode_cursor
from datalayer.jobs import (
    IllegalTransitionError,
    Job,
    JobKind,
    JobStatus,
    job_could_not_start,
    job_create,
    job_fail,
    job_get,
    job_mark_running,
    job_report_progress,
    job_retry,
    job_succeed,
    job_sweep,
    jobs_by_status,
    jobs_for_owner,
    jobs_past_deadline,
)

OWNER = "a" * 32
OTHER = "b" * 32


@functools.cache
def _client() -> Any:
    # One client for the module: each botocore client is a heap of objects in reference
    # cycles, and dozens of them left for the garbage collector slow the timing tests after.
    return boto3.client("dynamodb", region_name="eu-west-1")


def _stored(job_id: str) -> dict | None:
    """Return the raw item as DynamoDB holds it (not through the model)."""
    answer = _client().get_item(
        TableName=Job.Meta.table_name, Key={"id": {"S": job_id}}, ConsistentRead=True
    )
    return answer.get("Item")


def _new(key: str = "k1", *, owner: str = OWNER, run_seconds: int = 60, **params: str) -> Job:
    job, created = job_create(
        owner_id=owner,
        kind=JobKind.EXPORT,
        params=params,
        idempotency_key=key,
        run_seconds=run_seconds,
    )
    assert created
    return job


def _in_state(status: JobStatus, key: str = "k1", **kwargs: int) -> Job:
    """Create a job and move it to ``status`` through the legal path."""
    job = _new(key, **kwargs)
    if status is JobStatus.RUNNING or status is JobStatus.SUCCEEDED:
        job_mark_running(job_id=job.id)
    if status is JobStatus.SUCCEEDED:
        job_succeed(job_id=job.id, result_key="exports/x.zip")
    if status is JobStatus.FAILED:
        job_fail(job_id=job.id, reason="It broke.")
    if status is JobStatus.COULD_NOT_START:
        job_could_not_start(job_id=job.id, reason="The service did not answer.")
    stored = job_get(job_id=job.id)
    assert stored is not None
    assert stored.status is status
    return stored


# Each move, what it leads to, and the only states it may start from.
MOVES: dict[str, tuple[Callable[[str], object], JobStatus, set[JobStatus]]] = {
    "mark_running": (
        lambda job_id: job_mark_running(job_id=job_id),
        JobStatus.RUNNING,
        {JobStatus.QUEUED},
    ),
    "report_progress": (
        lambda job_id: job_report_progress(job_id=job_id, progress=40, message="Packing"),
        JobStatus.RUNNING,
        {JobStatus.RUNNING},
    ),
    "succeed": (
        lambda job_id: job_succeed(job_id=job_id, result_key="exports/x.zip"),
        JobStatus.SUCCEEDED,
        {JobStatus.RUNNING},
    ),
    "fail": (
        lambda job_id: job_fail(job_id=job_id, reason="It broke."),
        JobStatus.FAILED,
        {JobStatus.QUEUED, JobStatus.RUNNING},
    ),
    "could_not_start": (
        lambda job_id: job_could_not_start(job_id=job_id, reason="No answer."),
        JobStatus.COULD_NOT_START,
        {JobStatus.QUEUED},
    ),
    "retry": (
        lambda job_id: job_retry(job_id=job_id),
        JobStatus.QUEUED,
        {JobStatus.FAILED, JobStatus.COULD_NOT_START},
    ),
}


@pytest.mark.parametrize("status", list(JobStatus))
@pytest.mark.parametrize("move", sorted(MOVES))
def test_each_move_happens_from_its_source_states_and_is_refused_from_every_other(
    move: str, status: JobStatus
) -> None:
    apply, target, sources = MOVES[move]
    job = _in_state(status)
    before = _stored(job.id)

    if status in sources:
        apply(job.id)
        after = job_get(job_id=job.id)
        assert after is not None
        assert after.status is target
        assert after.updated > job.updated
    else:
        with pytest.raises(IllegalTransitionError) as refused:
            apply(job.id)
        assert refused.value.job_id == job.id
        assert refused.value.wanted is target
        assert refused.value.current is status
        assert _stored(job.id) == before


def test_a_new_job_is_queued_with_a_deadline_and_in_its_owners_list() -> None:
    job = _new(run_seconds=90, fmt="zip")

    stored = job_get(job_id=job.id)
    assert stored is not None
    assert (stored.status, stored.progress, stored.attempts) == (JobStatus.QUEUED, 0, 0)
    assert stored.kind is JobKind.EXPORT
    assert stored.params == {"fmt": "zip"}
    assert stored.owner_id == OWNER
    assert stored.error is None
    assert stored.result_key is None
    assert stored.started is None
    assert stored.finished is None
    assert stored.deadline == job.deadline
    assert timedelta(seconds=89) <= stored.deadline - stored.created <= timedelta(seconds=90)
    assert [j.id for j in jobs_for_owner(owner_id=OWNER)[0]] == [job.id]


def test_the_same_idempotency_key_twice_gives_the_first_job_and_writes_nothing() -> None:
    first = _new("click-1", fmt="zip")
    before = _stored(first.id)

    again, created = job_create(
        owner_id=OWNER,
        kind=JobKind.EXPORT,
        params={"fmt": "csv"},
        idempotency_key="click-1",
        run_seconds=60,
    )

    assert not created
    assert again.id == first.id
    assert again.params == {"fmt": "zip"}
    assert _stored(first.id) == before
    assert len(jobs_for_owner(owner_id=OWNER)[0]) == 1


def test_the_same_idempotency_key_of_two_owners_makes_two_jobs() -> None:
    mine = _new("k", owner=OWNER)
    theirs = _new("k", owner=OTHER)

    assert mine.id != theirs.id
    assert [j.id for j in jobs_for_owner(owner_id=OTHER)[0]] == [theirs.id]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"run_seconds": 0}, ValueError),
        ({"run_seconds": jobs.RUN_SECONDS_MAX + 1}, ValueError),
        ({"idempotency_key": ""}, ValueError),
        ({"idempotency_key": "k" * (jobs.IDEMPOTENCY_KEY_MAX_CHARS + 1)}, ValueError),
        ({"owner_id": ""}, ValueError),
        ({"params": {"blob": "x" * jobs.PARAMS_MAX_BYTES}}, ValueError),
        ({"params": ["not", "a", "dict"]}, TypeError),
        ({"kind": "mining"}, ValueError),
    ],
)
def test_a_job_with_bad_arguments_is_refused_and_nothing_is_written(changes, error) -> None:
    arguments = {
        "owner_id": OWNER,
        "kind": JobKind.AVATAR,
        "params": {},
        "idempotency_key": "k",
        "run_seconds": 60,
        **changes,
    }
    with pytest.raises(error):
        job_create(**arguments)

    assert jobs_for_owner(owner_id=OWNER) == ([], None)


def test_job_get_returns_none_for_an_unknown_id() -> None:
    assert job_get(job_id="0" * 32) is None


def test_reading_a_job_costs_one_dynamodb_call() -> None:
    job = _new()

    with counting_calls() as calls:
        assert job_get(job_id=job.id).attribute_values == job.attribute_values

    assert calls.operations == ["GetItem"]


@pytest.mark.parametrize("job_id", ["../../etc", "0" * 31, "A" * 32, ""])
def test_a_malformed_job_id_is_no_job_and_costs_no_dynamodb_call(job_id: str) -> None:
    with counting_calls() as calls:
        assert job_get(job_id=job_id) is None
        with pytest.raises(IllegalTransitionError, match="no such job"):
            job_fail(job_id=job_id, reason="x")

    assert calls.total == 0


def test_starting_stamps_the_start_counts_the_attempt_and_moves_the_deadline(
    monkeypatch,
) -> None:
    job = _new(run_seconds=600)
    # The worker starts the job five minutes after it was queued.
    monkeypatch.setattr(jobs, "_now", lambda: job.created + timedelta(minutes=5))

    running = job_mark_running(job_id=job.id)

    assert running.status is JobStatus.RUNNING
    assert running.attempts == 1
    assert running.started is not None
    # The deadline counts from the start (whole seconds), by the job's own run_seconds.
    assert running.deadline == datetime.fromtimestamp(int(running.started.timestamp()) + 600, UTC)
    assert running.started == job.created + timedelta(minutes=5)
    assert running.deadline - job.deadline >= timedelta(minutes=4)


def test_progress_and_message_are_recorded_and_long_messages_cut() -> None:
    job = _in_state(JobStatus.RUNNING)

    job_report_progress(job_id=job.id, progress=55, message="x" * 1000)

    stored = job_get(job_id=job.id)
    assert stored is not None
    assert stored.progress == 55
    assert len(stored.message) == jobs.MESSAGE_MAX_CHARS
    assert stored.message.endswith("…")


@pytest.mark.parametrize("progress", [-1, 101, True, 50.5])
def test_progress_outside_0_to_100_is_refused(progress) -> None:
    job = _in_state(JobStatus.RUNNING)
    before = _stored(job.id)

    with pytest.raises(ValueError, match="0 to 100"):
        job_report_progress(job_id=job.id, progress=progress, message="")

    assert _stored(job.id) == before


def test_success_records_the_result_and_leaves_the_sweeps_index() -> None:
    job = _in_state(JobStatus.RUNNING)

    done = job_succeed(job_id=job.id, result_key="exports/a.zip", message="Ready")

    assert done.status is JobStatus.SUCCEEDED
    assert (done.progress, done.message, done.result_key) == (100, "Ready", "exports/a.zip")
    assert done.finished is not None
    assert done.is_finished
    assert not done.can_retry
    assert "live_status" not in _stored(job.id)


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_failing_records_the_reason(status: JobStatus) -> None:
    job = _in_state(status)

    failed = job_fail(job_id=job.id, reason="  The file was not a CSV.  ")

    assert failed.status is JobStatus.FAILED
    assert failed.error == "The file was not a CSV."
    assert failed.finished is not None
    assert failed.can_retry
    assert "live_status" not in _stored(job.id)


def test_a_failure_without_a_reason_is_refused() -> None:
    job = _new()

    with pytest.raises(ValueError, match="reason"):
        job_fail(job_id=job.id, reason="   ")

    assert job_get(job_id=job.id).status is JobStatus.QUEUED


def test_could_not_start_records_the_reason() -> None:
    job = _new()

    job = job_could_not_start(job_id=job.id, reason="The jobs service did not answer.")

    assert job.status is JobStatus.COULD_NOT_START
    assert job.error == "The jobs service did not answer."
    assert job.can_retry


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.COULD_NOT_START])
def test_retry_queues_again_without_the_error_and_with_a_new_deadline(status, monkeypatch) -> None:
    job = _in_state(status, run_seconds=3600)
    # The owner retries an hour later.
    retried_at = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(jobs, "_now", lambda: retried_at)

    queued = job_retry(job_id=job.id)

    assert queued.status is JobStatus.QUEUED
    assert queued.error is None
    assert queued.finished is None
    assert queued.started is None
    assert queued.progress == 0
    assert queued.deadline == datetime.fromtimestamp(int(retried_at.timestamp()) + 3600, UTC)
    assert _stored(job.id)["live_status"] == {"S": "queued"}
    assert job_mark_running(job_id=job.id).attempts == job.attempts + 1


@pytest.mark.parametrize("job_id", ["0" * 32, "not-an-id"])
def test_moving_a_job_that_does_not_exist_is_refused_and_creates_nothing(job_id) -> None:
    with pytest.raises(IllegalTransitionError, match="no such job") as refused:
        job_mark_running(job_id=job_id)

    assert refused.value.current is None
    assert job_get(job_id="0" * 32) is None


def test_owner_lists_are_newest_first_across_pages_and_only_the_owners() -> None:
    made = [_new(f"k{n}").id for n in range(5)]
    _new("k", owner=OTHER)

    seen, cursor, pages = [], None, 0
    while True:
        with counting_calls() as calls:
            page, cursor = jobs_for_owner(owner_id=OWNER, limit=2, cursor=cursor)
        assert calls.total == 1
        pages += 1
        seen += [job.id for job in page]
        if cursor is None:
            break

    assert pages == 3
    assert seen == made[::-1]


def test_a_full_last_page_has_no_next_cursor() -> None:
    made = [_new(f"k{n}").id for n in range(2)]

    page, cursor = jobs_for_owner(owner_id=OWNER, limit=2)

    assert [job.id for job in page] == made[::-1]
    assert cursor is None


def _cursor_of_first_page() -> str:
    for n in range(3):
        _new(f"k{n}")
    _, cursor = jobs_for_owner(owner_id=OWNER, limit=1)
    assert cursor is not None
    return cursor


def test_an_edited_cursor_is_refused_with_a_clear_error() -> None:
    # Every kind of tampering is covered once, in tests/datalayer/test_cursors.py.
    cursor = _cursor_of_first_page()

    with pytest.raises(InvalidCursorError, match="first page"):
        jobs_for_owner(owner_id=OWNER, limit=1, cursor="A" + cursor[1:])


def test_another_owners_cursor_is_refused() -> None:
    cursor = _cursor_of_first_page()

    with pytest.raises(InvalidCursorError):
        jobs_for_owner(owner_id=OTHER, limit=1, cursor=cursor)


@pytest.mark.no_dynamodb
@pytest.mark.parametrize(
    "values",
    [
        {"created": "2026-01-01", "id": "f" * 32},
        {"created": "x", "id": "f" * 32},
        {"created": "2026-11-29T09:00:00.000000+0000", "id": "not-a-job-id"},
        {"created": "2026-11-29T09:00:00.000000+0000"},
    ],
)
def test_a_signed_cursor_with_a_malformed_position_is_refused(values) -> None:
    cursor = encode_cursor(values, scope=f"jobs:owner:{OWNER}")

    with pytest.raises(InvalidCursorError):
        jobs_for_owner(owner_id=OWNER, limit=1, cursor=cursor)


def test_failed_and_never_started_jobs_are_listed_by_status_until_retried() -> None:
    failed = _in_state(JobStatus.FAILED, "f")
    never = _in_state(JobStatus.COULD_NOT_START, "c")
    _in_state(JobStatus.SUCCEEDED, "s")
    queued = _new("q")

    assert [j.id for j in jobs_by_status(status=JobStatus.FAILED)[0]] == [failed.id]
    assert [j.id for j in jobs_by_status(status=JobStatus.COULD_NOT_START)[0]] == [never.id]
    assert [j.id for j in jobs_by_status(status=JobStatus.QUEUED)[0]] == [queued.id]
    assert _stored(failed.id)["failure_status"] == {"S": "failed"}

    job_retry(job_id=failed.id)

    assert "failure_status" not in _stored(failed.id)
    assert jobs_by_status(status=JobStatus.FAILED)[0] == []
    assert {j.id for j in jobs_by_status(status=JobStatus.QUEUED)[0]} == {queued.id, failed.id}


def test_the_sweep_lists_what_it_failed_as_failed() -> None:
    job = _new("late", run_seconds=1)

    job_sweep(now=datetime.now(UTC) + timedelta(seconds=5))

    assert [j.id for j in jobs_by_status(status=JobStatus.FAILED)[0]] == [job.id]


def test_succeeded_jobs_are_not_listed_by_status() -> None:
    with pytest.raises(ValueError, match="per owner"):
        jobs_by_status(status=JobStatus.SUCCEEDED)


@pytest.fixture
def jobs_by_deadline() -> dict[str, Job]:
    """Jobs in every state; ``LATER`` from now, only ``queued`` and ``running`` are late."""
    return {
        "queued": _new("q", run_seconds=60),
        "running": _in_state(JobStatus.RUNNING, "r", run_seconds=60),
        "running_in_time": _in_state(JobStatus.RUNNING, "t", run_seconds=3600),
        "queued_in_time": _new("u", run_seconds=3600),
        "succeeded": _in_state(JobStatus.SUCCEEDED, "s", run_seconds=60),
        "failed": _in_state(JobStatus.FAILED, "f", run_seconds=60),
        "could_not_start": _in_state(JobStatus.COULD_NOT_START, "c", run_seconds=60),
    }


LATER = timedelta(seconds=120)


def test_past_deadline_finds_only_queued_and_running_jobs_past_it(jobs_by_deadline) -> None:
    now = datetime.now(UTC)

    assert jobs_past_deadline(now=now) == []
    late = jobs_past_deadline(now=now + LATER)

    assert sorted(job.id for job in late) == sorted(
        jobs_by_deadline[name].id for name in ("queued", "running")
    )


def test_past_deadline_queries_the_index_and_never_scans(jobs_by_deadline, monkeypatch) -> None:
    def no_scan(*args, **kwargs):
        raise AssertionError("jobs_past_deadline must not scan")

    monkeypatch.setattr(Job, "scan", no_scan)
    monkeypatch.setattr(type(Job._get_connection()), "scan", no_scan)

    assert len(jobs_past_deadline(now=datetime.now(UTC) + LATER)) == 2


def test_the_sweep_fails_late_jobs_with_a_reason_and_a_second_sweep_does_nothing(
    jobs_by_deadline,
) -> None:
    untouched = {
        name: _stored(job.id)
        for name, job in jobs_by_deadline.items()
        if name not in ("queued", "running")
    }
    now = datetime.now(UTC) + LATER

    assert job_sweep(now=now) == 2
    assert job_sweep(now=now) == 0

    queued = job_get(job_id=jobs_by_deadline["queued"].id)
    running = job_get(job_id=jobs_by_deadline["running"].id)
    assert (queued.status, queued.error) == (JobStatus.FAILED, jobs.TOOK_TOO_LONG_TO_START)
    assert (running.status, running.error) == (JobStatus.FAILED, jobs.TOOK_TOO_LONG)
    assert "took too long" in running.error
    assert jobs_past_deadline(now=now) == []
    for name, item in untouched.items():
        assert _stored(jobs_by_deadline[name].id) == item, name


def test_the_sweep_leaves_alone_a_job_that_moved_after_the_index_was_read(
    jobs_by_deadline, monkeypatch
) -> None:
    now = datetime.now(UTC) + LATER
    seen = jobs_past_deadline(now=now)
    # Between the sweep's query and its updates: one job finishes, the other starts.
    job_succeed(job_id=jobs_by_deadline["running"].id, result_key=None)
    job_mark_running(job_id=jobs_by_deadline["queued"].id)
    monkeypatch.setattr(jobs, "jobs_past_deadline", lambda now: seen)

    assert job_sweep(now=now) == 0

    assert job_get(job_id=jobs_by_deadline["running"].id).status is JobStatus.SUCCEEDED
    assert job_get(job_id=jobs_by_deadline["queued"].id).status is JobStatus.RUNNING


def test_the_sweep_leaves_alone_a_job_that_was_retried_after_the_index_was_read(
    jobs_by_deadline, monkeypatch
) -> None:
    now = datetime.now(UTC) + LATER
    seen = jobs_past_deadline(now=now)
    job_id = jobs_by_deadline["queued"].id
    # Failed and retried meanwhile: queued again, as the index said, but with a new deadline.
    job_fail(job_id=job_id, reason="It broke.")
    with monkeypatch.context() as later:
        later.setattr(jobs, "_now", lambda: now + LATER)
        job_retry(job_id=job_id)
    monkeypatch.setattr(jobs, "jobs_past_deadline", lambda now: seen)

    assert job_sweep(now=now) == 1

    retried = job_get(job_id=job_id)
    assert (retried.status, retried.error) == (JobStatus.QUEUED, None)
    assert job_get(job_id=jobs_by_deadline["running"].id).status is JobStatus.FAILED


def test_a_sweep_that_runs_after_another_one_counts_nothing(jobs_by_deadline, monkeypatch) -> None:
    now = datetime.now(UTC) + LATER
    seen = jobs_past_deadline(now=now)
    assert job_sweep(now=now) == 2
    # A second sweeper that read the index before the first one wrote.
    monkeypatch.setattr(jobs, "jobs_past_deadline", lambda now: seen)

    assert job_sweep(now=now) == 0


# ---- the dashboard's jobs by status ----


def _counts() -> dict[str, int]:
    names = {status_name(JOBS, status): status for status in JobStatus}
    return {names[name]: value for name, value in counter_get_many(names).items() if value}


def test_every_move_moves_one_count_between_statuses() -> None:
    queued, running, failed = _new("a"), _new("b"), _new("c")
    job_mark_running(job_id=running.id)
    job_mark_running(job_id=failed.id)
    job_fail(job_id=failed.id, reason="broke")
    job_fail(job_id=queued.id, reason="never ran")
    assert _counts() == {JobStatus.RUNNING: 1, JobStatus.FAILED: 2}

    job_retry(job_id=failed.id)
    job_succeed(job_id=running.id, result_key="exports/x.zip")

    assert _counts() == {JobStatus.QUEUED: 1, JobStatus.SUCCEEDED: 1, JobStatus.FAILED: 1}


def test_a_refused_move_or_a_repeated_create_counts_nothing() -> None:
    job = _new("a")
    job_create(owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="a", run_seconds=60)
    with pytest.raises(IllegalTransitionError):
        job_succeed(job_id=job.id, result_key=None)

    assert _counts() == {JobStatus.QUEUED: 1}


def test_the_sweep_moves_the_counts_of_what_it_failed() -> None:
    late = _new("a", run_seconds=1)
    job_mark_running(job_id=_new("b", run_seconds=1).id)

    job_sweep(now=datetime.now(UTC) + timedelta(hours=1))

    assert job_get(job_id=late.id).status is JobStatus.FAILED
    assert _counts() == {JobStatus.FAILED: 2}
