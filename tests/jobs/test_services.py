"""Starting and retrying jobs for people, and who may see a job."""

import pytest

from datalayer.jobs import (
    IllegalTransitionError,
    JobKind,
    JobStatus,
    job_create,
    job_get,
    jobs_for_owner,
)
from jobs import selectors, services
from lambdas import work
from lambdas.work import export


def test_a_job_is_started_once_per_idempotency_key(site, make_user, worker_calls):
    user = make_user()

    first = services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)
    second = services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)

    assert first.id == second.id
    assert site.runner.wait_idle(30)
    assert len(worker_calls) == 1
    assert job_get(job_id=first.id).status == JobStatus.SUCCEEDED


def test_with_the_api_down_the_job_could_not_start_and_is_not_left_queued(api_down, make_user):
    user = make_user()

    job = services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)

    assert (job.status, job.error) == (JobStatus.COULD_NOT_START, services.COULD_NOT_START)
    stored = job_get(job_id=job.id)
    assert (stored.status, stored.live_status) == (JobStatus.COULD_NOT_START, None)


def test_an_api_refusing_the_request_also_means_could_not_start(api_down, make_user, monkeypatch):
    def refuse(**kwargs):
        raise services.api.JobsApiRejectedError("the jobs API answered 400")

    monkeypatch.setattr(services.api, "start_job", refuse)

    job = services.job_start(user=make_user(), kind=JobKind.EXPORT, idempotency_key="k" * 20)

    assert job_get(job_id=job.id).status == JobStatus.COULD_NOT_START


def test_an_unverified_user_cannot_start_a_job(api_down, make_user):
    user = make_user(email_verified=False)

    with pytest.raises(services.NotAllowedError):
        services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)

    assert jobs_for_owner(owner_id=user.id) == ([], None)


def test_a_failed_job_is_retried_by_its_owner_with_a_new_key(site, make_user, settings):
    user = make_user()
    settings.NEBULA_JOBS_API_URL = "http://127.0.0.1:1/v1"
    job = services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)
    settings.NEBULA_JOBS_API_URL = site.api_url

    services.job_retry_for(user=user, job=job)

    assert site.runner.wait_idle(30)
    assert job_get(job_id=job.id).status == JobStatus.SUCCEEDED


def test_staff_may_retry_anyones_job_and_others_may_not(api_down, make_user):
    owner = make_user()
    job = services.job_start(user=owner, kind=JobKind.EXPORT, idempotency_key="k" * 20)
    stranger = make_user(email="bea@example.com")
    staff = make_user(email="staff@example.com", is_staff=True)

    with pytest.raises(services.NotAllowedError):
        services.job_retry_for(user=stranger, job=job)
    assert job_get(job_id=job.id).status == JobStatus.COULD_NOT_START
    retried = services.job_retry_for(user=staff, job=job)

    assert retried.status == JobStatus.COULD_NOT_START  # the API is still down
    assert job_get(job_id=job.id).attempts == 0


def test_a_job_that_is_not_failed_cannot_be_retried(make_user):
    user = make_user()
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 20, run_seconds=60
    )

    with pytest.raises(IllegalTransitionError):
        services.job_retry_for(user=user, job=job)


def test_a_job_is_visible_to_its_owner_and_staff_only(make_user):
    owner = make_user()
    job, _ = job_create(
        owner_id=owner.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 20, run_seconds=60
    )

    assert selectors.job_for_viewer(job_id=job.id, user=owner).id == job.id
    staff = make_user(email="staff@example.com", is_staff=True)
    assert selectors.job_for_viewer(job_id=job.id, user=staff).id == job.id
    stranger = make_user(email="bea@example.com")
    assert selectors.job_for_viewer(job_id=job.id, user=stranger) is None
    assert selectors.job_for_viewer(job_id="0" * 32, user=owner) is None


def test_a_job_that_failed_in_the_worker_is_run_again_on_retry(site, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, lambda job, progress: 1 / 0)
    job = services.job_start(user=user, kind=JobKind.EXPORT, idempotency_key="k" * 20)
    assert site.runner.wait_idle(30)
    assert job_get(job_id=job.id).status == JobStatus.FAILED
    monkeypatch.setitem(work.REGISTRY, JobKind.EXPORT, export.run)  # it works again

    services.job_retry_for(user=user, job=job_get(job_id=job.id))

    assert site.runner.wait_idle(30)
    done = job_get(job_id=job.id)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
