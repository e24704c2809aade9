"""Jobs in the admin: staff only; lists by status and by owner, a job's page, Retry (audited)."""

import re
from html import unescape

import pytest

from datalayer.jobs import (
    JobKind,
    JobStatus,
    job_create,
    job_fail,
    job_get,
    job_mark_running,
    job_succeed,
)
from nebula.audit import audit_list
from tests.contact.conftest import csrf_client, form_token

LIST = "/admin/jobs/"


def _job(owner_id: str, key: str, status: JobStatus = JobStatus.FAILED):
    job, _ = job_create(
        owner_id=owner_id, kind=JobKind.EXPORT, params={}, idempotency_key=key, run_seconds=60
    )
    if status in (JobStatus.RUNNING, JobStatus.SUCCEEDED):
        job_mark_running(job_id=job.id)
    if status is JobStatus.FAILED:
        job_fail(job_id=job.id, reason=f"It broke ({key}).")
    if status is JobStatus.SUCCEEDED:
        job_succeed(job_id=job.id, result_key=f"exports/{owner_id}/{job.id}.zip", message="Done.")
    return job_get(job_id=job.id)


@pytest.fixture
def owner(make_user):
    return make_user(email="owner@example.com")


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", is_staff=True)


@pytest.fixture
def staff_client(staff):
    return csrf_client(staff.email)


def _job_ids(content: bytes) -> list[str]:
    return re.findall(rb'href="/admin/jobs/([0-9a-f]{32})/"', content)


def test_the_admin_index_lists_jobs_with_what_the_section_holds(staff_client) -> None:
    index = staff_client.get("/admin/").content.decode()

    assert f'href="{LIST}"' in index
    assert "Background jobs (data exports, avatars, user imports)" in index


def test_staff_list_failed_jobs_and_read_one(staff_client, owner) -> None:
    job = _job(owner.id, "k1")

    listing = staff_client.get(LIST)
    detail = staff_client.get(f"{LIST}{job.id}/").content.decode()

    assert listing.status_code == 200
    assert _job_ids(listing.content) == [job.id.encode()]
    assert f'href="/admin/accounts/users/{owner.id}/"' in detail
    assert "It broke (k1)." in detail
    assert "Export" in detail
    assert "Failed" in detail
    assert f'action="/admin/jobs/{job.id}/retry/"' in detail


def test_each_status_lists_its_own_jobs_and_succeeded_ones_are_listed_per_owner(
    staff_client, owner
) -> None:
    failed = _job(owner.id, "f")
    queued = _job(owner.id, "q", JobStatus.QUEUED)
    running = _job(owner.id, "r", JobStatus.RUNNING)
    done = _job(owner.id, "s", JobStatus.SUCCEEDED)

    def listed(query: str) -> set[bytes]:
        return set(_job_ids(staff_client.get(f"{LIST}?{query}").content))

    assert listed("status=queued") == {queued.id.encode()}
    assert listed("status=running") == {running.id.encode()}
    assert listed("status=failed") == {failed.id.encode()}
    assert listed("status=could_not_start") == set()
    assert listed(f"owner={owner.id}") == {j.id.encode() for j in (failed, queued, running, done)}


def test_a_succeeded_job_offers_its_result(staff_client, owner, settings) -> None:
    settings.NEBULA_MEDIA_BUCKET = "nebula-test-media"
    job = _job(owner.id, "s", JobStatus.SUCCEEDED)

    detail = staff_client.get(f"{LIST}{job.id}/").content.decode()

    link = unescape(re.search(r'<a href="([^"]+)" download>Download the result', detail).group(1))
    assert "nebula-test-media" in link
    assert f"exports/{owner.id}/{job.id}.zip" in link
    assert "X-Amz-Signature=" in link
    assert "/retry/" not in detail


def test_anonymous_visitors_are_sent_to_sign_in(client, owner) -> None:
    job = _job(owner.id, "k1")
    for path in (LIST, f"{LIST}{job.id}/"):
        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")


def test_signed_in_users_who_are_not_staff_are_turned_away(owner, make_user) -> None:
    job = _job(owner.id, "k1")
    browser = csrf_client(owner.email)

    for path in (LIST, f"{LIST}{job.id}/"):
        response = browser.get(path, follow=True)

        assert response.status_code == 403
        assert b"It broke" not in response.content
    assert browser.post(f"{LIST}{job.id}/retry/").status_code in (302, 403)
    assert job_get(job_id=job.id).status is JobStatus.FAILED
    assert audit_list().entries == []


def test_retry_with_csrf_queues_the_job_again_and_writes_the_audit_entry(
    site, staff_client, staff, owner
) -> None:
    job = _job(owner.id, "k1")
    page = staff_client.get(f"{LIST}{job.id}/")

    answer = staff_client.post(
        f"{LIST}{job.id}/retry/", {"csrfmiddlewaretoken": form_token(page.content)}
    )

    assert answer.status_code == 302
    assert answer["Location"] == f"{LIST}{job.id}/"
    assert job_get(job_id=job.id).status in (
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
    )
    [entry] = audit_list(entity=("job", job.id)).entries
    assert (entry.actor_id, entry.actor_label, entry.action) == (staff.id, staff.email, "job.retry")
    assert entry.before == {"status": "failed", "error": "It broke (k1)."}
    assert entry.after == {"status": "queued", "error": ""}
    assert site.runner.wait_idle(30)
    shown = staff_client.get(f"/admin/audit/?entity_type=job&entity_id={job.id}").content
    assert b"job.retry" in shown


def test_retry_without_the_csrf_token_is_refused(staff_client, owner) -> None:
    job = _job(owner.id, "k1")

    answer = staff_client.post(f"{LIST}{job.id}/retry/")

    assert answer.status_code == 403
    assert job_get(job_id=job.id).status is JobStatus.FAILED
    assert audit_list().entries == []


def test_retrying_a_job_that_is_not_failed_changes_nothing(staff_client, owner) -> None:
    job = _job(owner.id, "q", JobStatus.QUEUED)
    page = staff_client.get(f"{LIST}{job.id}/")

    answer = staff_client.post(
        f"{LIST}{job.id}/retry/",
        {"csrfmiddlewaretoken": form_token(page.content)},
        follow=True,
    )

    assert b"nothing to retry" in answer.content
    assert job_get(job_id=job.id).status is JobStatus.QUEUED
    assert audit_list().entries == []


def test_the_failed_list_pages_through_every_job_once(staff_client, owner) -> None:
    made = {_job(owner.id, f"k{n}").id.encode() for n in range(30)}

    first = staff_client.get(f"{LIST}?status=failed")
    next_url = unescape(
        re.search(rb'<a href="([^"]+)" rel="next">', first.content).group(1).decode()
    )
    second = staff_client.get(next_url)

    assert len(_job_ids(first.content)) == 25
    assert len(_job_ids(second.content)) == 5
    assert set(_job_ids(first.content)) | set(_job_ids(second.content)) == made
    assert b'rel="next"' not in second.content
    assert b"First page" in second.content


def test_an_edited_page_link_shows_the_first_page_with_a_message(staff_client, owner) -> None:
    for n in range(26):
        _job(owner.id, f"k{n}")
    first = staff_client.get(f"{LIST}?status=failed")
    cursor = re.search(rb"cursor=([^\"&]+)", first.content).group(1).decode()

    edited = staff_client.get(LIST, {"status": "failed", "cursor": "A" + cursor[1:]})
    other_list = staff_client.get(LIST, {"status": "queued", "cursor": cursor})

    assert edited.status_code == 400
    assert b"That page link is not valid" in edited.content
    assert len(_job_ids(edited.content)) == 25
    assert other_list.status_code == 400


def test_the_user_page_links_to_their_jobs(staff_client, owner) -> None:
    page = staff_client.get(f"/admin/accounts/users/{owner.id}/").content.decode()

    assert f'href="{LIST}?owner={owner.id}"' in page
