"""The jobs pages in a browser: start an export, watch it, download it, retry, and privacy."""

import html
import json
import logging
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from datalayer.jobs import (
    JobKind,
    JobStatus,
    job_create,
    job_fail,
    job_get,
    job_mark_running,
    job_succeed,
    jobs_for_owner,
)
from jobs import services
from nebula.logging import JSONFormatter
from tests.lambdas.conftest import MEDIA_BUCKET

KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')


def _key_on(page) -> str:
    return KEY.search(page.content).group(1).decode()


def _export(client, key: str | None = None):
    key = key or _key_on(client.get("/jobs/"))
    return client.post("/jobs/export/", {"idempotency_key": key})


def _retry_button_shown(page: str, job_id: str) -> bool:
    [form] = re.findall(rf'<form [^>]*action="/jobs/{job_id}/retry/"[^>]*>', page)
    return " hidden" not in form


def _unsigned(url: str) -> tuple[str, str]:
    """The object a presigned link names: its address without the signature's parts."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("X-Amz-Date", "X-Amz-Signature")]
    return parts._replace(query="").geturl(), str(sorted(kept))


def _job_id(response) -> str:
    return re.fullmatch(r"/jobs/([0-9a-f]{32})/", response["Location"]).group(1)


def test_an_export_started_on_my_jobs_runs_and_offers_its_result(site, make_user, browser):
    ann = browser(make_user())

    started = _export(ann)

    assert started.status_code == 302
    job_id = _job_id(started)
    page = ann.get(f"/jobs/{job_id}/")
    assert page.status_code == 200
    assert b"Export my data" in page.content
    assert b"<progress" in page.content
    assert site.runner.wait_idle(30)
    state = ann.get(f"/jobs/{job_id}/status.json").json()
    assert (state["status"], state["progress"], state["finished"]) == ("succeeded", 100, True)
    assert f"/{MEDIA_BUCKET}/exports/" in state["result_url"]
    assert "Signature=" in state["result_url"]
    done = ann.get(f"/jobs/{job_id}/")
    assert b"Download the result" in done.content
    # Each answer signs a fresh link (its X-Amz-Date may be a second later): the same object.
    [link] = re.findall(r'href="([^"]+)" data-job-field="result-link"', done.content.decode())
    assert _unsigned(html.unescape(link)) == _unsigned(state["result_url"])
    assert "X-Amz-Signature=" in link
    assert f"/jobs/{job_id}/".encode() in ann.get("/jobs/").content


def test_a_running_job_page_polls_with_script_and_reloads_without(site, make_user, browser):
    user = make_user()
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )

    page = browser(user).get(f"/jobs/{job.id}/").content.decode()

    assert '<script src="/static/js/job.js" defer></script>' in page
    assert f'data-job-status-url="/jobs/{job.id}/status.json?t=' in page  # jobs.tokens
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert f'href="/jobs/{job.id}/"' in page  # the Refresh link


def test_a_finished_job_page_does_not_reload_itself(make_user, browser):
    user = make_user()
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    job_fail(job_id=job.id, reason="It broke.")

    page = browser(user).get(f"/jobs/{job.id}/").content.decode()

    assert "http-equiv" not in page
    assert "It broke." in page


def test_the_status_json_reads_the_job_once_and_the_page_stays_within_two_reads(
    make_user, browser, caplog
):
    user = make_user()
    client = browser(user)
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    caplog.set_level(logging.INFO, logger="nebula.access")
    formatter = JSONFormatter()

    # A malformed id is no job without a call: what any signed-in request costs.
    assert client.get("/jobs/not-a-job/status.json").status_code == 404
    answer = client.get(f"/jobs/{job.id}/status.json")
    page = client.get(f"/jobs/{job.id}/")

    assert answer.json()["status"] == "queued"
    assert page.status_code == 200
    access = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "nebula.access"]
    signed_in, status_json, job_page = (line["dynamodb_calls"] for line in access[-3:])
    assert status_json - signed_in == 1
    assert job_page <= 2


def test_a_double_click_starts_one_job(site, make_user, browser, worker_calls):
    ann = browser(make_user())
    key = _key_on(ann.get("/jobs/"))

    first = _export(ann, key)
    second = _export(ann, key)

    assert _job_id(first) == _job_id(second)
    assert site.runner.wait_idle(30)
    assert len(worker_calls) == 1
    assert ann.get("/jobs/").content.count(b'href="/jobs/' + _job_id(first).encode()) == 1


def test_with_the_api_down_the_job_could_not_start_calmly(api_down, make_user, browser):
    ann = browser(make_user())

    job_id = _job_id(_export(ann))

    job = job_get(job_id=job_id)
    assert (job.status, job.error) == (JobStatus.COULD_NOT_START, services.COULD_NOT_START)
    assert job.live_status is None  # nothing left queued for the sweep
    page = ann.get(f"/jobs/{job_id}/").content.decode()
    assert "Could not start" in page
    assert "please try again in a few minutes" in page
    assert _retry_button_shown(page, job_id)


def test_a_job_that_could_not_start_is_retried_and_succeeds(
    api_down, make_user, browser, site, settings
):
    ann = browser(make_user())
    settings.NEBULA_JOBS_API_URL = "http://127.0.0.1:1/v1"
    job_id = _job_id(_export(ann))
    assert job_get(job_id=job_id).status == JobStatus.COULD_NOT_START
    settings.NEBULA_JOBS_API_URL = site.api_url  # the API is back

    retried = ann.post(f"/jobs/{job_id}/retry/")

    assert retried.status_code == 302
    assert site.runner.wait_idle(30)
    job = job_get(job_id=job_id)
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, None)


def test_another_users_job_is_not_found_on_the_page_or_the_json(make_user, browser):
    owner = make_user()
    job, _ = job_create(
        owner_id=owner.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    job_fail(job_id=job.id, reason="It broke.")
    bea = browser(make_user(email="bea@example.com"))

    assert bea.get(f"/jobs/{job.id}/").status_code == 404
    assert bea.get(f"/jobs/{job.id}/status.json").status_code == 404
    assert bea.post(f"/jobs/{job.id}/retry/").status_code == 404
    assert job_get(job_id=job.id).status == JobStatus.FAILED


def test_staff_can_view_anyones_job(make_user, browser):
    owner = make_user()
    job, _ = job_create(
        owner_id=owner.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    staff = browser(make_user(email="staff@example.com", is_staff=True))

    assert staff.get(f"/jobs/{job.id}/").status_code == 200
    assert staff.get(f"/jobs/{job.id}/status.json").json()["status"] == "queued"


def test_an_unverified_user_cannot_start_a_job(api_down, make_user, browser):
    user = make_user(email="cal@example.com", email_verified=False)
    cal = browser(user)
    page = cal.get("/jobs/")
    assert b"Confirm your email address" in page.content
    assert not KEY.search(page.content)  # no button

    refused = cal.post("/jobs/export/", {"idempotency_key": "a" * 32}, follow=True)

    assert b"Confirm your email address to start jobs." in refused.content
    assert jobs_for_owner(owner_id=user.id) == ([], None)


def test_my_jobs_pages_through_more_than_one_page(make_user, browser):
    user = make_user()
    for n in range(25):
        job_create(
            owner_id=user.id,
            kind=JobKind.EXPORT,
            params={},
            idempotency_key=f"key-{n:012d}",
            run_seconds=60,
        )
    client = browser(user)

    first = client.get("/jobs/").content.decode()
    older = re.search(r'href="(/jobs/\?after=[^"]+)"', first).group(1)
    second = client.get(older.replace("&amp;", "&")).content.decode()

    first_ids = set(re.findall(r'href="/jobs/([0-9a-f]{32})/"', first))
    second_ids = set(re.findall(r'href="/jobs/([0-9a-f]{32})/"', second))
    assert (len(first_ids), len(second_ids)) == (20, 5)
    assert not first_ids & second_ids
    assert "Older jobs" not in second


def test_a_tampered_page_link_starts_again_from_the_first_page(make_user, browser):
    client = browser(make_user())

    answer = client.get("/jobs/?after=not-a-cursor", follow=True)

    assert answer.redirect_chain == [("/jobs/", 302)]
    assert b"start again from the first page" in answer.content


@pytest.mark.parametrize("path", ["/jobs/", "/jobs/" + "a" * 32 + "/"])
def test_the_jobs_pages_need_signing_in(client, path):
    assert client.get(path)["Location"].startswith("/accounts/login/")


def _succeeded(user):
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    job_mark_running(job_id=job.id)
    job_succeed(job_id=job.id, result_key=f"exports/{user.id}/{job.id}.zip")
    return job


def test_without_a_media_bucket_the_result_is_said_not_downloadable(make_user, browser, settings):
    settings.NEBULA_MEDIA_BUCKET = ""
    user = make_user()
    job = _succeeded(user)
    client = browser(user)

    page = client.get(f"/jobs/{job.id}/").content.decode()
    state = client.get(f"/jobs/{job.id}/status.json").json()

    assert state["result_url"] is None
    [note] = re.findall(r'<p class="muted" data-job-field="no-download"[^>]*>', page)
    assert " hidden" not in note
    assert "cannot be downloaded from this site" in page


def test_with_a_media_bucket_the_result_link_is_presigned_for_a_few_minutes(
    make_user, browser, settings, monkeypatch
):
    settings.NEBULA_MEDIA_BUCKET = "nebula-test-media"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    user = make_user()
    job = _succeeded(user)

    url = browser(user).get(f"/jobs/{job.id}/status.json").json()["result_url"]

    assert url.startswith(f"http://127.0.0.1:9/nebula-test-media/exports/{user.id}/{job.id}.zip?")
    assert "X-Amz-Expires=300" in url


def test_my_jobs_is_linked_from_the_nav_and_the_profile(make_user, browser):
    profile = browser(make_user()).get("/accounts/profile/").content.decode()

    assert profile.count('href="/jobs/"') == 2
