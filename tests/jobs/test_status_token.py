"""The status JSON at one DynamoDB read: the job page's token, and who it lets in (nobody else)."""

import html
import json
import logging
import re

import pytest
from django.test import Client

from datalayer.jobs import JobKind, job_create, job_fail, job_mark_running, job_succeed
from jobs import tokens
from nebula.logging import JSONFormatter

STATUS_URL = re.compile(r'data-job-status-url="([^"]+)"')


@pytest.fixture
def calls(caplog):
    """Return the DynamoDB calls the access log recorded for the last request."""
    caplog.set_level(logging.INFO, logger="nebula.access")
    formatter = JSONFormatter()

    def last() -> int:
        [*_, record] = [r for r in caplog.records if r.name == "nebula.access"]
        return json.loads(formatter.format(record))["dynamodb_calls"]

    return last


def _job(owner_id: str, key: str = "k" * 16):
    job, _ = job_create(
        owner_id=owner_id, kind=JobKind.EXPORT, params={}, idempotency_key=key, run_seconds=600
    )
    return job


def _status_url(client: Client, job_id: str) -> str:
    page = client.get(f"/jobs/{job_id}/")
    assert page.status_code == 200
    return html.unescape(STATUS_URL.search(page.content.decode()).group(1))


def test_the_owner_polls_a_running_job_at_one_read(make_user, browser, calls):
    ann = make_user()
    client = browser(ann)
    job = _job(ann.id)
    job_mark_running(job_id=job.id)
    url = _status_url(client, job.id)
    assert url.startswith(f"/jobs/{job.id}/status.json?t=")

    for _ in range(3):
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.json()["status"] == "running"
        assert calls() == 1  # the job's GetItem, and no session read
    assert answer["Cache-Control"].startswith("max-age=0")
    assert "Cookie" in answer["Vary"]


def test_without_a_token_the_status_costs_the_session_read_too(make_user, browser, calls):
    ann = make_user()
    client = browser(ann)
    job = _job(ann.id)

    assert client.get(f"/jobs/{job.id}/status.json").json()["status"] == "queued"
    assert calls() == 2


def test_someone_else_with_the_owners_token_gets_404(make_user, browser):
    ann = make_user()
    job = _job(ann.id)
    url = _status_url(browser(ann), job.id)
    bea = browser(make_user(email="bea@example.com"))

    assert bea.get(url).status_code == 404


def test_the_token_without_the_owners_session_cookie_reveals_nothing(make_user, browser):
    ann = make_user()
    job = _job(ann.id)
    url = _status_url(browser(ann), job.id)

    anonymous = Client().get(url)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_a_token_for_one_job_opens_no_other(make_user, browser):
    ann = make_user()
    client = browser(ann)
    mine = _job(ann.id)
    theirs = _job(make_user(email="bea@example.com").id, key="b" * 16)
    token = _status_url(client, mine.id).split("?t=")[1]

    assert client.get(f"/jobs/{theirs.id}/status.json?t={token}").status_code == 404


def test_a_tampered_or_expired_token_falls_back_to_the_session(
    make_user, browser, calls, monkeypatch
):
    ann = make_user()
    client = browser(ann)
    job = _job(ann.id)
    url = _status_url(client, job.id)

    tampered = client.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
    assert tampered.json()["status"] == "queued"
    assert calls() == 2  # no job read for a bad token: the session path

    monkeypatch.setattr(tokens, "TOKEN_SECONDS", -1)
    expired = client.get(url)
    assert expired.json()["status"] == "queued"
    assert calls() == 2


def test_a_token_only_opens_a_job_its_owner_id_owns(make_user, browser):
    ann = make_user()
    bea_user = make_user(email="bea@example.com")
    bea = browser(bea_user)
    job = _job(ann.id)
    cookie = bea.cookies["sessionid"].value
    # Validly signed for Bea's session, but naming Bea: the job's owner is checked too.
    naming_bea = tokens.status_token(job_id=job.id, owner_id=bea_user.id, session_key=cookie)
    # Naming Ann, but bound to another session than Bea's.
    other_session = tokens.status_token(job_id=job.id, owner_id=ann.id, session_key="x" * 40)

    assert bea.get(f"/jobs/{job.id}/status.json?t={naming_bea}").status_code == 404
    assert bea.get(f"/jobs/{job.id}/status.json?t={other_session}").status_code == 404


def test_a_finished_job_and_its_link_need_a_live_session(make_user, browser, calls):
    ann = make_user()
    client = browser(ann)
    job = _job(ann.id)
    job_mark_running(job_id=job.id)
    url = _status_url(client, job.id)
    job_succeed(job_id=job.id, result_key="exports/x.zip")

    done = client.get(url)
    assert done.json()["status"] == "succeeded"
    assert calls() == 2  # the job, then the session: a finished job is never served by token

    cookie = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    client.cookies["sessionid"] = cookie  # the old cookie and the page's token, kept
    after = client.get(url)
    assert after.status_code == 302
    assert after["Location"].startswith("/accounts/login/")


def test_staff_viewing_someone_elses_job_get_no_token(make_user, browser):
    ann = make_user()
    job = _job(ann.id)
    job_fail(job_id=job.id, reason="x")
    staff = browser(make_user(email="staff@example.com", is_staff=True))
    running = _job(ann.id, key="r" * 16)

    assert _status_url(staff, running.id) == f"/jobs/{running.id}/status.json"
    assert staff.get(f"/jobs/{running.id}/status.json").json()["status"] == "queued"
