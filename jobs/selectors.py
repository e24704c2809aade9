"""Reads of jobs for the site's pages: who may see a job, a person's jobs a page at a time.

A job is visible to its owner and to staff only; for anyone else it does not exist
(the views answer 404, never 403, so a job id says nothing about whose it is).
"""

from typing import Any

from datalayer.jobs import Job, JobStatus, job_get, jobs_by_status, jobs_for_owner

PAGE_SIZE = 20
ADMIN_PAGE_SIZE = 25


def job_for_viewer(*, job_id: str, user: Any) -> Job | None:
    """Return the job if ``user`` owns it or is staff, else None (one consistent read)."""
    job = job_get(job_id=job_id)
    if job is None or not may_view(job=job, user=user):
        return None
    return job


def job_for_owner_id(*, job_id: str, owner_id: str) -> Job | None:
    """Return the job if ``owner_id`` owns it, else None (one consistent read).

    For a request whose status token vouches for ``owner_id`` (``jobs.tokens``).
    """
    job = job_get(job_id=job_id)
    if job is None or job.owner_id != owner_id:
        return None
    return job


def may_view(*, job: Job, user: Any) -> bool:
    """Say whether ``user`` may see ``job``: its owner or staff (no DynamoDB call)."""
    return job.owner_id == str(user.pk) or bool(user.is_staff)


def job_page_for_owner(
    *, user: Any, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Job], str | None]:
    """Return a page of the user's jobs, newest first, and the next page's cursor (or None).

    Raises ``datalayer.cursors.InvalidCursorError`` for a cursor that is not this user's.
    """
    return jobs_for_owner(owner_id=str(user.pk), limit=limit, cursor=cursor)


def job_page_by_status(
    *, status: JobStatus, cursor: str | None = None, limit: int = ADMIN_PAGE_SIZE
) -> tuple[list[Job], str | None]:
    """Return a page of the jobs in ``status`` (queued, running, failed, could not start).

    For the admin: one Query of a sparse index per page (``datalayer.jobs.jobs_by_status``).
    Raises ``datalayer.cursors.InvalidCursorError`` for a cursor not made for ``status``.
    """
    return jobs_by_status(status=status, limit=limit, cursor=cursor)


def job_page_for_owner_id(
    *, owner_id: str, cursor: str | None = None, limit: int = ADMIN_PAGE_SIZE
) -> tuple[list[Job], str | None]:
    """Return a page of one person's jobs, every status, newest first (the admin, by owner)."""
    return jobs_for_owner(owner_id=owner_id, limit=limit, cursor=cursor)
