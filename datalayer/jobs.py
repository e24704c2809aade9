"""The job record: one item per background job, moved between states by conditional updates.

The site creates a job (queued) and lists a person's jobs; the Lambda worker marks it
running, reports progress and finishes it; the sweep fails jobs past their deadline.
Both sides import this module, so there is one definition of the record and of every
legal move. Each move is ONE ``UpdateItem`` whose condition names the states it may
start from; DynamoDB refuses any other move atomically, and the caller gets
:class:`IllegalTransitionError` with the item unchanged.

::

    job_create ──► queued ──job_mark_running──► running ──job_succeed──► succeeded
                     │  │                          │
                     │  └──job_fail / sweep──┐     └──job_fail / sweep──┐
                     │                       ▼                          ▼
                     └──job_could_not_start──► could_not_start        failed
    failed | could_not_start ──job_retry──► queued

A job carries a deadline (``now + run_seconds``, set on create, on start and on
retry); a queued or running job past it is failed by :func:`job_sweep`. Only queued
and running jobs are in the ``by-status`` index (a sparse index: the final states
remove its key), so the sweep queries a small index and never scans the table. Failed and
never-started jobs are in a second sparse index, ``by-failure`` (set by those final states,
removed by a retry), for the admin's lists (:func:`jobs_by_status`).

Every successful move (and every new job) also moves one count between the
``jobs#<status>`` counters (:mod:`datalayer.counters`, best effort), whether the site
or a Lambda function made it: the admin's dashboard shows jobs by status without a scan.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pynamodb.attributes import (
    Attribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import NUMBER
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .counters import JOBS, counter_move
from .cursors import decode_cursor, encode_cursor
from .errors import is_condition_failed
from .models import NebulaModel

# Limits on what a job carries: the record is read on every poll of the job's page.
PARAMS_MAX_BYTES = 4096
MESSAGE_MAX_CHARS = 200
ERROR_MAX_CHARS = 500
IDEMPOTENCY_KEY_MAX_CHARS = 128
RUN_SECONDS_MAX = 24 * 3600
PAGE_MAX = 100

# The reasons the sweep gives; people read them on the job's page.
TOOK_TOO_LONG = "This job took too long and was stopped. You can try again."
TOOK_TOO_LONG_TO_START = "This job took too long to start. You can try again."

_JOB_ID = re.compile(r"[0-9a-f]{32}")


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    COULD_NOT_START = "could_not_start"


class JobKind(StrEnum):
    """What a job does."""

    EXPORT = "export"
    AVATAR = "avatar"
    IMPORT = "import"


# A job in one of these states never changes again, except by job_retry.
FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.COULD_NOT_START})
RETRYABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.COULD_NOT_START})
# The states the sweep looks at (the hash keys of the sparse by-status index).
LIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class IllegalTransitionError(Exception):
    """DynamoDB refused a move: the job is not in a state it may move from (or is missing)."""

    def __init__(self, *, job_id: str, wanted: JobStatus, current: JobStatus | None) -> None:
        self.job_id = job_id
        self.wanted = wanted
        # The state read after the refusal (None: no such job); for messages and logs only.
        self.current = current
        found = f"it is {current}" if current is not None else "there is no such job"
        super().__init__(f"job {job_id} cannot move to {wanted}: {found}")


class _EnumAttribute(UnicodeAttribute):
    """A string attribute that reads back as a member of its ``StrEnum``."""

    def __init__(self, enum: type[StrEnum], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enum = enum

    def serialize(self, value: Any) -> str:
        return super().serialize(self.enum(value).value)

    def deserialize(self, value: str) -> Any:
        return self.enum(super().deserialize(value))


class _EpochAttribute(Attribute[datetime]):
    """A UTC time stored as whole epoch seconds (a number), so updates can add to it."""

    attr_type = NUMBER

    def serialize(self, value: datetime) -> str:
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware")
        return json.dumps(int(value.timestamp()))

    def deserialize(self, value: str) -> datetime:
        return datetime.fromtimestamp(json.loads(value), tz=UTC)


class JobsByOwner(GlobalSecondaryIndex["Job"]):
    """A person's jobs, newest first."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute(range_key=True)


class LiveJobsByDeadline(GlobalSecondaryIndex["Job"]):
    """Queued and running jobs only (sparse), by deadline: what the sweep reads."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    live_status = _EnumAttribute(JobStatus, hash_key=True)
    deadline = _EpochAttribute(range_key=True)


class FailedJobsByTime(GlobalSecondaryIndex["Job"]):
    """Failed and never-started jobs only (sparse), by when they stopped: the admin's lists."""

    class Meta:
        index_name = "by-failure"
        projection = AllProjection()

    failure_status = _EnumAttribute(JobStatus, hash_key=True)
    finished = UTCDateTimeAttribute(range_key=True)


class Job(NebulaModel):
    """One background job: who started it, what it does, where it is, and its result."""

    class Meta:
        table_name = "jobs"

    id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    kind = _EnumAttribute(JobKind)
    status = _EnumAttribute(JobStatus)
    # The status again while queued or running, absent once finished: the by-status key.
    live_status = _EnumAttribute(JobStatus, null=True)
    # The status again while failed or could_not_start, absent otherwise: the by-failure key.
    failure_status = _EnumAttribute(JobStatus, null=True)
    # The status the last move started from (what the dashboard's count moves from).
    previous_status = _EnumAttribute(JobStatus, null=True)
    progress = NumberAttribute(default=0)
    message = UnicodeAttribute(default="")
    params = JSONAttribute(default=dict)
    result_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute()
    run_seconds = NumberAttribute()
    attempts = NumberAttribute(default=0)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    started = UTCDateTimeAttribute(null=True)
    finished = UTCDateTimeAttribute(null=True)
    deadline = _EpochAttribute()
    # Nothing here sets it: a job record stays until someone decides otherwise.
    expires = TTLAttribute(null=True)

    by_owner = JobsByOwner()
    by_status = LiveJobsByDeadline()
    by_failure = FailedJobsByTime()

    @property
    def is_finished(self) -> bool:
        """Return True once the job succeeded, failed or could not start."""
        return self.status in FINISHED_STATUSES

    @property
    def can_retry(self) -> bool:
        """Return True if :func:`job_retry` would queue the job again."""
        return self.status in RETRYABLE_STATUSES


def _now() -> datetime:
    return datetime.now(UTC)


def _clip(text: str, limit: int) -> str:
    # Texts for people are cut, not refused: a long message must not fail a job.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def job_id_for(*, owner_id: str, idempotency_key: str) -> str:
    """Return the id a job of this owner and idempotency key has (32 hex characters)."""
    digest = hashlib.sha256(f"{owner_id}\n{idempotency_key}".encode())
    return digest.hexdigest()[:32]


def _validate_new(*, owner_id: str, params: dict, idempotency_key: str, run_seconds: int) -> None:
    if not owner_id:
        raise ValueError("a job needs an owner")
    if not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX_CHARS:
        raise ValueError(f"idempotency_key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} characters")
    if isinstance(run_seconds, bool) or not 0 < run_seconds <= RUN_SECONDS_MAX:
        raise ValueError(f"run_seconds must be 1 to {RUN_SECONDS_MAX}")
    if not isinstance(params, dict):
        raise TypeError("params must be a dict")
    if len(json.dumps(params).encode()) > PARAMS_MAX_BYTES:
        raise ValueError(f"params must be at most {PARAMS_MAX_BYTES} bytes as JSON")


def job_create(
    *, owner_id: str, kind: JobKind, params: dict, idempotency_key: str, run_seconds: int
) -> tuple[Job, bool]:
    """Queue a new job; return it and True, or the job this key already made and False.

    The id is derived from (owner, idempotency key), and the put is conditional on the
    id being new: a double click or a retried request never makes a second job.
    """
    _validate_new(
        owner_id=owner_id, params=params, idempotency_key=idempotency_key, run_seconds=run_seconds
    )
    now = _now()
    job = Job(
        id=job_id_for(owner_id=owner_id, idempotency_key=idempotency_key),
        owner_id=owner_id,
        kind=JobKind(kind),
        status=JobStatus.QUEUED,
        live_status=JobStatus.QUEUED,
        progress=0,
        message="",
        params=params,
        idempotency_key=idempotency_key,
        run_seconds=run_seconds,
        attempts=0,
        created=now,
        updated=now,
        # Whole seconds, as stored: the returned job matches the item.
        deadline=datetime.fromtimestamp(_epoch(now) + run_seconds, tz=UTC),
    )
    try:
        job.save(condition=Job.id.does_not_exist())
    except PutError as exc:
        if not is_condition_failed(exc):
            raise
        existing = job_get(job_id=job.id)
        if existing is None:
            raise RuntimeError(f"job {job.id} exists and does not: deleted meanwhile?") from exc
        return existing, False
    counter_move(JOBS, source=None, target=JobStatus.QUEUED)
    return job, True


def job_get(*, job_id: str) -> Job | None:
    """Return the job (a consistent read), or None if there is none with this id."""
    if not _JOB_ID.fullmatch(job_id):
        return None
    try:
        return Job.get(job_id, consistent_read=True)
    except Job.DoesNotExist:
        return None


# Page cursors (datalayer.cursors): the last job's index keys, scoped to the list. The
# query's hash key always comes from the caller's arguments, never from the cursor, so
# a cursor can only move within the list the caller was allowed to read.
def _is_index_time(value: str) -> bool:
    try:
        Job.created.deserialize(value)
    except ValueError:
        return False
    return True


def _is_job_id(value: str) -> bool:
    return _JOB_ID.fullmatch(value) is not None


def _owner_scope(owner_id: str) -> str:
    return f"jobs:owner:{owner_id}"


def _encode_owner_cursor(owner_id: str, job: Job) -> str:
    return encode_cursor(
        {"created": Job.created.serialize(job.created), "id": job.id}, scope=_owner_scope(owner_id)
    )


def _decode_owner_cursor(owner_id: str, cursor: str) -> dict[str, dict[str, str]]:
    values = decode_cursor(
        cursor,
        scope=_owner_scope(owner_id),
        fields={"created": _is_index_time, "id": _is_job_id},
    )
    return {
        "id": {"S": values["id"]},
        "owner_id": {"S": owner_id},
        "created": {"S": values["created"]},
    }


def jobs_for_owner(
    *, owner_id: str, limit: int = 20, cursor: str | None = None
) -> tuple[list[Job], str | None]:
    """Return a page of the owner's jobs, newest first, and the next page's cursor (or None).

    Raises ``datalayer.cursors.InvalidCursorError`` for a cursor not made by this function for this
    owner. Reads the by-owner index, so a job created a moment ago may show a moment later.
    """
    if not 0 < limit <= PAGE_MAX:
        raise ValueError(f"limit must be 1 to {PAGE_MAX}")
    start = _decode_owner_cursor(owner_id, cursor) if cursor else None
    # One more than asked: a next cursor only when a next page has something on it.
    found = list(
        Job.by_owner.query(
            owner_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start
        )
    )
    page = found[:limit]
    more = len(found) > limit
    return page, (_encode_owner_cursor(owner_id, page[-1]) if more else None)


# The statuses an index lists (succeeded jobs are listed per owner only, by-owner).
LISTED_STATUSES = (*LIVE_STATUSES, JobStatus.FAILED, JobStatus.COULD_NOT_START)


def _is_epoch(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 12


def jobs_by_status(
    *, status: JobStatus, limit: int = 20, cursor: str | None = None
) -> tuple[list[Job], str | None]:
    """Return a page of the jobs in ``status`` and the next page's cursor (or None).

    Queued and running jobs come from the sparse ``by-status`` index, soonest
    deadline first (the ones about to be swept on top); failed and never-started
    ones from the sparse ``by-failure`` index, the latest to stop first. Succeeded
    jobs are in neither (they would grow without end): list them per owner
    (:func:`jobs_for_owner`). One Query per page, never a Scan. Raises ``ValueError``
    for ``succeeded`` and ``datalayer.cursors.InvalidCursorError`` for a cursor not made for
    this status.
    """
    status = JobStatus(status)
    if status not in LISTED_STATUSES:
        raise ValueError(f"jobs that are {status} are listed per owner, not by status")
    if not 0 < limit <= PAGE_MAX:
        raise ValueError(f"limit must be 1 to {PAGE_MAX}")
    scope = f"jobs:status:{status}"
    live = status in LIVE_STATUSES
    sort_name = "deadline" if live else "finished"
    start = None
    if cursor:
        values = decode_cursor(
            cursor,
            scope=scope,
            fields={sort_name: _is_epoch if live else _is_index_time, "id": _is_job_id},
        )
        start = {
            "id": {"S": values["id"]},
            ("live_status" if live else "failure_status"): {"S": status.value},
            sort_name: {"N" if live else "S": values[sort_name]},
        }
    index = Job.by_status if live else Job.by_failure
    # One more than asked: a next cursor only when a next page has something on it.
    found = list(
        index.query(status, scan_index_forward=live, limit=limit + 1, last_evaluated_key=start)
    )
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    last = page[-1]
    sort_value = str(_epoch(last.deadline)) if live else Job.finished.serialize(last.finished)
    return page, encode_cursor({sort_name: sort_value, "id": last.id}, scope=scope)


def _transition(
    job_id: str,
    *,
    wanted: JobStatus,
    sources: Iterable[JobStatus],
    actions: list[Action],
    condition: Condition | None = None,
    explain: bool = True,
) -> Job:
    """Apply ``actions`` in one conditional UpdateItem, if the job is in one of ``sources``."""
    if not _JOB_ID.fullmatch(job_id):
        raise IllegalTransitionError(job_id=job_id, wanted=wanted, current=None)
    allowed = Job.status.is_in(*sources)
    job = Job(id=job_id)
    try:
        job.update(
            # previous_status takes the status before this update: the count moves from it.
            actions=[*actions, Job.updated.set(_now()), Job.previous_status.set(Job.status)],
            condition=allowed if condition is None else allowed & condition,
        )
    except UpdateError as exc:
        if not is_condition_failed(exc):
            raise
        current = job_get(job_id=job_id) if explain else None
        raise IllegalTransitionError(
            job_id=job_id, wanted=wanted, current=current.status if current else None
        ) from exc
    counter_move(JOBS, source=job.previous_status, target=job.status)
    return job


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _finish(status: JobStatus, *, now: datetime) -> list[Action]:
    # A final state leaves the sparse by-status index; a failure enters by-failure.
    actions = [Job.status.set(status), Job.live_status.remove(), Job.finished.set(now)]
    if status in RETRYABLE_STATUSES:
        actions.append(Job.failure_status.set(status))
    return actions


def job_mark_running(*, job_id: str) -> Job:
    """Move a queued job to running: stamp the start, count the attempt, set the deadline."""
    now = _now()
    return _transition(
        job_id,
        wanted=JobStatus.RUNNING,
        sources=[JobStatus.QUEUED],
        actions=[
            Job.status.set(JobStatus.RUNNING),
            Job.live_status.set(JobStatus.RUNNING),
            Job.started.set(now),
            Job.attempts.add(1),
            # The deadline counts from the start, by the job's own run_seconds.
            Job.deadline.set(Job.run_seconds + _epoch(now)),
        ],
    )


def job_report_progress(*, job_id: str, progress: int, message: str) -> None:
    """Record how far a running job is (0-100) and a short message for people."""
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValueError("progress must be an integer from 0 to 100")
    _transition(
        job_id,
        wanted=JobStatus.RUNNING,
        sources=[JobStatus.RUNNING],
        actions=[
            Job.progress.set(progress),
            Job.message.set(_clip(message, MESSAGE_MAX_CHARS)),
        ],
    )


def job_succeed(*, job_id: str, result_key: str | None, message: str = "") -> Job:
    """Move a running job to succeeded, with where its result lies in media storage."""
    now = _now()
    return _transition(
        job_id,
        wanted=JobStatus.SUCCEEDED,
        sources=[JobStatus.RUNNING],
        actions=[
            *_finish(JobStatus.SUCCEEDED, now=now),
            Job.progress.set(100),
            Job.message.set(_clip(message, MESSAGE_MAX_CHARS)),
            Job.result_key.set(result_key),
        ],
    )


def job_fail(*, job_id: str, reason: str) -> Job:
    """Move a queued or running job to failed, with a reason a person can read."""
    return _transition(
        job_id,
        wanted=JobStatus.FAILED,
        sources=LIVE_STATUSES,
        actions=[*_finish(JobStatus.FAILED, now=_now()), Job.error.set(_reason(reason))],
    )


def job_could_not_start(*, job_id: str, reason: str) -> Job:
    """Move a queued job to could_not_start (the API was unreachable or refused it)."""
    return _transition(
        job_id,
        wanted=JobStatus.COULD_NOT_START,
        sources=[JobStatus.QUEUED],
        actions=[
            *_finish(JobStatus.COULD_NOT_START, now=_now()),
            Job.error.set(_reason(reason)),
        ],
    )


def job_retry(*, job_id: str) -> Job:
    """Queue a failed (or never started) job again: clear its error, give it a new deadline."""
    now = _now()
    return _transition(
        job_id,
        wanted=JobStatus.QUEUED,
        sources=RETRYABLE_STATUSES,
        actions=[
            Job.status.set(JobStatus.QUEUED),
            Job.live_status.set(JobStatus.QUEUED),
            Job.deadline.set(Job.run_seconds + _epoch(now)),
            Job.progress.set(0),
            Job.message.set(""),
            Job.error.remove(),
            Job.failure_status.remove(),
            Job.result_key.remove(),
            Job.started.remove(),
            Job.finished.remove(),
        ],
    )


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValueError("a failed job needs a reason a person can read")
    return _clip(reason, ERROR_MAX_CHARS)


def jobs_past_deadline(*, now: datetime | None = None) -> list[Job]:
    """Return the queued and running jobs whose deadline (before ``now``, aware) has passed.

    Queries the sparse by-status index (eventually consistent): a job may have moved
    since; :func:`job_sweep` checks again in its update.
    """
    now = now or _now()
    return [
        job
        for status in LIVE_STATUSES
        for job in Job.by_status.query(status, LiveJobsByDeadline.deadline < now)
    ]


def job_sweep(*, now: datetime | None = None) -> int:
    """Fail every job past its deadline; return how many this call failed.

    Safe to run twice or in parallel: each job is failed by an update conditional on
    its status and deadline as the index showed them, so a job that finished, started
    or was retried (a new deadline) in between is left alone, and counted once.
    """
    now = now or _now()
    swept = 0
    for job in jobs_past_deadline(now=now):
        reason = TOOK_TOO_LONG_TO_START if job.status is JobStatus.QUEUED else TOOK_TOO_LONG
        try:
            _transition(
                job.id,
                wanted=JobStatus.FAILED,
                sources=[job.status],
                actions=[*_finish(JobStatus.FAILED, now=_now()), Job.error.set(reason)],
                condition=Job.deadline < now,
                explain=False,
            )
        except IllegalTransitionError:
            continue
        swept += 1
    return swept
