"""Start and retry jobs for people: record the job, then ask the jobs API to run it.

The record comes first (queued), so a job the API never hears of is still visible,
and is moved to "could not start" with a calm message when the API is unreachable
or refuses. Nothing is left queued by a failed start.
"""

import logging
import secrets
from typing import Any

from datalayer.jobs import Job, JobKind, job_could_not_start, job_create, job_retry

from . import api

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
