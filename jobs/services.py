"""Start and retry jobs for people: record the job, then ask the jobs API to run it.

The record comes first (queued), so a job the API never hears of is still visible,
and is moved to "could not start" with a calm message when the API is unreachable
or refuses. Nothing is left queued by a failed start.
"""

import logging
import secrets
from typing import Any

from datalayer.jobs import (
    Job,
    JobKind,
    job_could_not_start,
    job_create,
    job_id_for,
    job_retry,
)
from nebula.audit import audit_record

from . import api, media

logger = logging.getLogger("nebula.jobs")

# How long each kind may take before the sweep fails it (seconds).
RUN_SECONDS = {JobKind.EXPORT: 15 * 60, JobKind.AVATAR: 5 * 60, JobKind.IMPORT: 30 * 60}

COULD_NOT_START = (
    "We could not start this job just now. Nothing was done; please try again in a few minutes."
)


class NotAllowedError(Exception):
    """This user may not start (or retry) this job."""


def _start(job: Job, *, idempotency_key: str) -> Job:
    """Ask the API to run the queued job; on refusal mark it "could not start"."""
    try:
        api.start_job(
            job_id=job.id,
            kind=str(job.kind),
            owner_id=job.owner_id,
            idempotency_key=idempotency_key,
        )
    except (api.JobsApiUnavailableError, api.JobsApiRejectedError) as exc:
        logger.warning("job %s could not start: %s", job.id, exc, extra={"job_id": job.id})
        return job_could_not_start(job_id=job.id, reason=COULD_NOT_START)
    return job


def job_start(*, user: Any, kind: JobKind, idempotency_key: str, params: dict | None = None) -> Job:
    """Start a job of ``kind`` for ``user`` once per idempotency key; return it.

    The same key again returns the job it made, and asks the API nothing more.
    ``params`` go to the work function (``job.params``; small: at most 4 KiB as JSON).
    Raises :class:`NotAllowedError` if the user may not start jobs.
    """
    if not user.can_start_jobs:
        raise NotAllowedError("Confirm your email address to start jobs.")
    job, created = job_create(
        owner_id=str(user.pk),
        kind=kind,
        params=params or {},
        idempotency_key=idempotency_key,
        run_seconds=RUN_SECONDS[JobKind(kind)],
    )
    if not created:
        return job
    return _start(job, idempotency_key=idempotency_key)


def job_retry_for(*, user: Any, job: Job) -> Job:
    """Queue a failed job again and ask the API to run it; return it as it is now.

    Its owner or staff only (:class:`NotAllowedError` otherwise). Raises
    ``datalayer.jobs.IllegalTransitionError`` if the job is not failed any more.
    """
    if not (job.owner_id == str(user.pk) or user.is_staff):
        raise NotAllowedError("This job is not yours.")
    if job.owner_id == str(user.pk) and not user.can_start_jobs:
        raise NotAllowedError("Confirm your email address to start jobs.")
    queued = job_retry(job_id=job.id)
    # A new key per attempt: the API remembers the first one as already started.
    return _start(
        queued, idempotency_key=f"{job.idempotency_key[:96]}:retry:{secrets.token_hex(8)}"
    )


def job_admin_retry(*, actor: Any, job: Job) -> Job:
    """Retry a failed job for a staff member (the admin's Retry) and audit it.

    As :func:`job_retry_for`; the audit entry ("job.retry", the status and error
    before, the status after) is written right after the move and the API call,
    which are no transaction. Raises ``IllegalTransitionError`` if the job is not
    failed any more (nothing is recorded then).
    """
    retried = job_retry_for(user=actor, job=job)
    audit_record(
        actor_id=str(actor.pk),
        actor_label=actor.email,
        action="job.retry",
        entity_type="job",
        entity_id=job.id,
        entity_label=f"{job.kind}, owner {job.owner_id[:8]}",
        before={"status": str(job.status), "error": job.error or ""},
        after={"status": str(retried.status), "error": retried.error or ""},
    )
    logger.info("admin %s retried job %s", actor.pk, job.id, extra={"job_id": job.id})
    return retried


def job_start_import(
    *, user: Any, data: bytes, file_name: str, rows: int, idempotency_key: str
) -> Job:
    """Store a checked CSV of users and start a bulk import job of it; return the job (staff).

    The same key again returns the job it made and stores nothing. When the file
    cannot be stored, the job is "could not start" and nothing else happened.
    Raises :class:`NotAllowedError` for anyone but active staff.
    """
    if not user.is_staff:
        raise NotAllowedError("Only staff can import users.")
    if not user.can_start_jobs:
        raise NotAllowedError("Confirm your email address to start jobs.")
    owner_id = str(user.pk)
    file_key = media.import_file_key(
        job_id=job_id_for(owner_id=owner_id, idempotency_key=idempotency_key)
    )
    job, created = job_create(
        owner_id=owner_id,
        kind=JobKind.IMPORT,
        params={"file_key": file_key, "file_name": file_name[:100], "rows": rows},
        idempotency_key=idempotency_key,
        run_seconds=RUN_SECONDS[JobKind.IMPORT],
    )
    if not created:
        return job
    try:
        media.put_import_file(key=file_key, data=data)
    except media.MediaUnavailableError as exc:
        logger.warning(
            "import file of job %s not stored: %s", job.id, exc, extra={"job_id": job.id}
        )
        return job_could_not_start(job_id=job.id, reason=COULD_NOT_START)
    logger.info("user import %s started by %s (%d rows)", job.id, owner_id, rows)
    return _start(job, idempotency_key=idempotency_key)
