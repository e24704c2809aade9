"""Jobs pages: "My jobs", one job's page, its status JSON, and the start and retry buttons.

Parse with a form, call a service or selector, render. A job someone may not see is
a 404, never a 403. The job's page polls ``status.json`` (static/js/job.js) while the
job is queued or running; without JavaScript a ``<noscript>`` meta refresh reloads it.
"""

import functools
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from datalayer.cursors import InvalidCursorError
from datalayer.jobs import IllegalTransitionError, Job, JobKind, JobStatus
from nebula.ratelimit import by_user, limit

from . import forms, media, selectors, services, tokens

KIND_NAMES = {
    JobKind.EXPORT: "Export my data",
    JobKind.AVATAR: "Profile picture",
    JobKind.IMPORT: "User import",
}
STATUS_NAMES = {
    JobStatus.QUEUED: "Queued",
    JobStatus.RUNNING: "Running",
    JobStatus.SUCCEEDED: "Done",
    JobStatus.FAILED: "Failed",
    JobStatus.COULD_NOT_START: "Could not start",
}
STATUS_TONES = {
    JobStatus.QUEUED: "info",
    JobStatus.RUNNING: "info",
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "danger",
    JobStatus.COULD_NOT_START: "warning",
}


def _viewable(request: HttpRequest, job_id: str) -> Job:
    job = selectors.job_for_viewer(job_id=job_id, user=request.user)
    if job is None:
        raise Http404("No such job.")
    return job


def _state(job: Job) -> dict[str, Any]:
    """Return what the page and the status JSON show of a job (no DynamoDB call)."""
    succeeded = job.status is JobStatus.SUCCEEDED
    return {
        "status": str(job.status),
        "status_name": STATUS_NAMES[job.status],
        "status_tone": STATUS_TONES[job.status],
        "progress": int(job.progress),
        "message": job.message,
        "error": job.error or "",
        "finished": job.is_finished,
        "can_retry": job.can_retry,
        "result_url": media.result_url(key=job.result_key) if succeeded else None,
    }


@never_cache
@login_required
@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("after") or None
    try:
        jobs, next_cursor = selectors.job_page_for_owner(user=request.user, cursor=cursor)
    except InvalidCursorError as exc:
        messages.error(request, str(exc))
        return redirect("jobs:list")
    rows = [
        {
            "job": job,
            "kind_name": KIND_NAMES[job.kind],
            "status_name": STATUS_NAMES[job.status],
            "status_tone": STATUS_TONES[job.status],
        }
        for job in jobs
    ]
    form = forms.StartJobForm(initial={"idempotency_key": forms.new_idempotency_key()})
    return render(
        request,
        "jobs/job_list.html",
        {"rows": rows, "next_cursor": next_cursor, "first_page": cursor is None, "form": form},
    )


@require_POST
@login_required
@limit("job_start_user", key=by_user)
def export_start(request: HttpRequest) -> HttpResponse:
    form = forms.StartJobForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That button was out of date. Please press it again.")
        return redirect("jobs:list")
    try:
        job = services.job_start(
            user=request.user,
            kind=JobKind.EXPORT,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except services.NotAllowedError as exc:
        messages.error(request, str(exc))
        return redirect("jobs:list")
    return redirect("jobs:detail", job_id=job.id)


def _status_url(request: HttpRequest, job: Job) -> str:
    """Return the status JSON's URL; for the owner, with a token that spares the session read."""
    url = reverse("jobs:status", kwargs={"job_id": job.id})
    session_key = request.session.session_key
    if job.owner_id != str(request.user.pk) or job.is_finished or not session_key:
        return url
    token = tokens.status_token(job_id=job.id, owner_id=job.owner_id, session_key=session_key)
    return f"{url}?{urlencode({'t': token})}"


@never_cache
@login_required
@require_safe
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _viewable(request, job_id)
    return render(
        request,
        "jobs/job_detail.html",
        {
            "job": job,
            "kind_name": KIND_NAMES[job.kind],
            "state": _state(job),
            "status_url": _status_url(request, job),
        },
    )


@never_cache
@require_safe
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """The job's state as JSON: one read with the page's token, else the session's check too.

    With a valid token (``jobs.tokens``) the session is never loaded: the job's
    ``GetItem`` is the only DynamoDB call. A job that is finished (its answer may carry
    the download link), a missing or failing token, or a job the token's owner does not
    own, all take the signed-in path: sign in, and 404 unless owner or staff.
    """
    owner_id = tokens.status_token_owner(
        token=request.GET.get("t", ""),
        job_id=job_id,
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
    )
    job = selectors.job_for_owner_id(job_id=job_id, owner_id=owner_id) if owner_id else None
    if job is not None and not job.is_finished:
        response = JsonResponse(_state(job))
        patch_vary_headers(response, ("Cookie",))  # the answer depends on the session cookie
        return response
    return _job_status_signed_in(request, job_id, job)


@login_required
def _job_status_signed_in(request: HttpRequest, job_id: str, job: Job | None) -> HttpResponse:
    if job is None or not selectors.may_view(job=job, user=request.user):
        job = _viewable(request, job_id)  # read (again) only what the token did not give
    return JsonResponse(_state(job))


@require_POST
@login_required
@limit("job_start_user", key=by_user)
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _viewable(request, job_id)
    try:
        services.job_retry_for(user=request.user, job=job)
    except services.NotAllowedError as exc:
        messages.error(request, str(exc))
    except IllegalTransitionError:
        messages.info(request, "This job is not failed any more, so there is nothing to retry.")
    return redirect(reverse("jobs:detail", kwargs={"job_id": job.id}))


def _staff_only(view: Any) -> Any:
    """Let in active staff whose session passed the second factor: the admin's own gate."""

    @functools.wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return admin.site.view(view)(request, *args, **kwargs)

    return gated


@_staff_only
@limit("job_start_user", key=by_user)
def import_users(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of users (staff): checked whole, stored, then imported by a job."""
    if request.method == "POST":
        form = forms.ImportUsersForm(request.POST, request.FILES)
        if form.is_valid() and not media.is_configured():
            form.add_error(None, "Imports need the media bucket, which is not configured here.")
        elif form.is_valid():
            try:
                job = services.job_start_import(
                    user=request.user,
                    data=form.cleaned_data["data"],
                    file_name=form.cleaned_data["file"].name,
                    rows=form.cleaned_data["rows"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except services.NotAllowedError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("jobs:detail", job_id=job.id)
    else:
        form = forms.ImportUsersForm(initial={"idempotency_key": forms.new_idempotency_key()})
    return render(
        request,
        "jobs/import_users.html",
        {
            "form": form,
            "max_rows": f"{forms.IMPORT_MAX_ROWS:,}",
            "max_megabytes": forms.IMPORT_MAX_BYTES // 1024 // 1024,
        },
    )
