"""Jobs in the admin: lists by status or by owner, a job's page, and Retry for a failed job.

No list reads the whole table. Queued and running jobs come from the sparse
``by-status`` index, failed and never-started ones from the sparse ``by-failure``
index (``selectors.job_page_by_status``); every job of one person, succeeded ones
included, from ``by-owner`` (``selectors.job_page_for_owner_id``, linked from the
user's admin page). Each page is one Query, the next named by an opaque cursor
(``datalayer.cursors``). Retry goes through ``services.job_admin_retry``, which
writes the audit entry. Registered with ``NebulaAdminSite``; every view is staff only.
"""

import logging
import re
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from datalayer.cursors import InvalidCursorError
from datalayer.jobs import LISTED_STATUSES, IllegalTransitionError, Job, JobStatus
from nebula.admin import AdminSection

from . import media, selectors, services

logger = logging.getLogger(__name__)

_OWNER_RE = re.compile(r"[0-9a-f]{32}")


def _label(value: str) -> str:
    """Say a status or kind as the admin shows it ("could_not_start" -> "Could not start")."""
    return str(value).replace("_", " ").capitalize()


def _context(request: HttpRequest, **extra: object) -> dict:
    return {**admin.site.each_context(request), **extra}


def _rows(jobs: list[Job]) -> list[dict]:
    return [
        {"job": job, "kind_name": _label(job.kind), "status_name": _label(job.status)}
        for job in jobs
    ]


def job_list(request: HttpRequest) -> HttpResponse:
    """List jobs by status (one sparse index each) or one owner's jobs, a page at a time."""
    owner = request.GET.get("owner", "").strip().lower()
    if owner and not _OWNER_RE.fullmatch(owner):
        owner = ""
    status = request.GET.get("status", "")
    if status not in LISTED_STATUSES:
        status = JobStatus.FAILED.value
    cursor = request.GET.get("cursor") or None
    error = None

    def page(cursor: str | None) -> tuple[list[Job], str | None]:
        if owner:
            return selectors.job_page_for_owner_id(owner_id=owner, cursor=cursor)
        return selectors.job_page_by_status(status=JobStatus(status), cursor=cursor)

    try:
        jobs, next_cursor = page(cursor)
    except InvalidCursorError:
        # An edited, cut or other list's link: say so and show the first page.
        error = "That page link is not valid. Here is the first page."
        cursor = None
        jobs, next_cursor = page(None)
    here = {"owner": owner} if owner else {"status": status}
    base = reverse("admin:jobs_jobs")
    next_url = f"{base}?{urlencode({**here, 'cursor': next_cursor})}" if next_cursor else None
    return render(
        request,
        "admin/jobs/job_list.html",
        _context(
            request,
            title=f"Jobs of user {owner}" if owner else f"Jobs: {_label(status).lower()}",
            owner=owner,
            status=status,
            statuses=[(s.value, _label(s)) for s in LISTED_STATUSES],
            rows=_rows(jobs),
            error=error,
            next_url=next_url,
            first_url=f"{base}?{urlencode(here)}" if cursor else None,
        ),
        status=400 if error else 200,
    )


def _get_or_404(request: HttpRequest, job_id: str) -> Job:
    job = selectors.job_for_viewer(job_id=job_id, user=request.user)
    if job is None:
        raise Http404("No such job")
    return job


def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _get_or_404(request, job_id)
    succeeded = job.status is JobStatus.SUCCEEDED
    context = _context(
        request,
        title=f"Job {job.id[:8]}",
        subject=job,
        kind_name=_label(job.kind),
        status_name=_label(job.status),
        result_url=media.result_url(key=job.result_key) if succeeded else None,
        list_url=f"{reverse('admin:jobs_jobs')}?{urlencode({'owner': job.owner_id})}",
    )
    return render(request, "admin/jobs/job_detail.html", context)


@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _get_or_404(request, job_id)
    try:
        retried = services.job_admin_retry(actor=request.user, job=job)
    except IllegalTransitionError:
        messages.info(request, "This job is not failed any more, so there is nothing to retry.")
    else:
        if retried.status is JobStatus.QUEUED:
            messages.success(request, f"Job {job.id[:8]} is queued again.")
        else:
            messages.warning(
                request, f"Job {job.id[:8]} could not be started again: {retried.error}"
            )
    return redirect("admin:jobs_job", job_id=job.id)


admin.site.register_section(
    AdminSection(
        slug="jobs",
        title="Jobs",
        description=(
            "Background jobs (data exports, avatars, user imports): queued, running, failed "
            "and never started, by status; every job of one person from their user page; "
            "progress, errors, results; retry a failed job."
        ),
        index_url_name="admin:jobs_jobs",
        entity_urls={"job": "admin:jobs_job"},
        urls=[
            path("", admin.site.view(job_list), name="jobs_jobs"),
            path("<str:job_id>/", admin.site.view(job_detail), name="jobs_job"),
            path("<str:job_id>/retry/", admin.site.view(job_retry), name="jobs_job_retry"),
        ],
    )
)
