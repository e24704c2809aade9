"""Bulk user import through the site: staff upload a CSV, a job imports it, a report comes back."""

import csv
import io
import os
import re
import urllib.request

import boto3
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import selectors
from accounts.models import User
from datalayer.jobs import JobKind, JobStatus, job_get, jobs_for_owner
from jobs import forms
from tests.accounts.conftest import log_in, log_in_staff
from tests.lambdas.conftest import MEDIA_BUCKET
from tests.support import free_port

KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')
USERS_CSV = (
    b"email,display_name,email_verified\n"
    b"amy@example.com,Amy,true\n"
    b"bo@example.com,Bo,\n"
    b"not-an-address,Nobody,\n"
)


@pytest.fixture
def staff(make_user) -> tuple[User, Client]:
    """A verified staff member, signed in with the second factor."""
    user = make_user(email="staff@example.com", is_staff=True)
    client = Client()
    log_in_staff(client, email=user.email)
    return user, client


def _upload(client: Client, data: bytes, name: str = "users.csv"):
    page = client.get("/jobs/import/")
    assert page.status_code == 200, page
    key = KEY.search(page.content).group(1).decode()
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post("/jobs/import/", {"idempotency_key": key, "file": upload})


def _job_id(response) -> str:
    return re.fullmatch(r"/jobs/([0-9a-f]{32})/", response["Location"]).group(1)


def _objects(endpoint: str) -> list[str]:
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    return [o["Key"] for o in s3.list_objects_v2(Bucket=MEDIA_BUCKET).get("Contents", [])]


def _endpoint() -> str:
    return os.environ["AWS_ENDPOINT_URL_S3"]


def _download(url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # the presigned link, as a browser
        return list(csv.DictReader(io.StringIO(answer.read().decode("utf-8"))))


def test_staff_import_a_file_and_download_the_report_from_the_jobs_page(site, staff):
    user, client = staff

    started = _upload(client, USERS_CSV)

    assert started.status_code == 302
    job_id = _job_id(started)
    job = job_get(job_id=job_id)
    assert (job.kind, job.owner_id) == (JobKind.IMPORT, user.id)
    assert job.params == {"file_key": f"imports/{job_id}.csv", "file_name": "users.csv", "rows": 3}
    assert site.runner.wait_idle(30)
    state = client.get(f"/jobs/{job_id}/status.json").json()
    assert (state["status"], state["message"]) == ("succeeded", "2 created, 0 skipped, 1 rejected.")
    assert f"/{MEDIA_BUCKET}/imports/{job_id}-report.csv" in state["result_url"]
    report = _download(state["result_url"])
    assert [(r["email"], r["outcome"]) for r in report] == [
        ("amy@example.com", "created"),
        ("bo@example.com", "created"),
        ("not-an-address", "rejected"),
    ]
    page = client.get(f"/jobs/{job_id}/").content.decode()
    assert "User import" in page
    assert "Download the result" in page
    assert "<dd>users.csv (3 rows)</dd>" in page
    # Real accounts: the site finds them by address; no password signs them in until they
    # set one through "Forgot your password?", and then they can.
    amy = selectors.user_get_by_email(email="Amy@Example.com")
    assert (amy.display_name, amy.email_verified, amy.has_usable_password()) == ("Amy", True, False)
    assert log_in(Client(), email="amy@example.com", password="").status_code == 200
    mail.outbox.clear()
    visitor = Client()
    assert (
        visitor.post("/accounts/password/reset/", {"email": "amy@example.com"}).status_code == 302
    )
    [link] = re.findall(r"/accounts/password/reset/\S+/", mail.outbox[0].body)
    form = visitor.get(link, follow=True)
    new_password = "a brand new passphrase for amy"
    visitor.post(
        form.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert log_in(Client(), email="amy@example.com", password=new_password).status_code == 302


def test_the_same_file_twice_creates_nothing_the_second_time(site, staff):
    _, client = staff
    first = _job_id(_upload(client, USERS_CSV))
    assert site.runner.wait_idle(30)
    users = {u.id for u in User.scan()}

    second = _job_id(_upload(client, USERS_CSV))

    assert second != first
    assert site.runner.wait_idle(30)
    assert job_get(job_id=second).message == "0 created, 2 skipped, 1 rejected."
    assert {u.id for u in User.scan()} == users


def test_a_double_submit_of_one_form_is_one_job_and_one_stored_file(site, staff, worker_calls):
    user, client = staff
    key = KEY.search(client.get("/jobs/import/").content).group(1).decode()

    for _ in range(2):
        upload = SimpleUploadedFile("users.csv", USERS_CSV, content_type="text/csv")
        client.post("/jobs/import/", {"idempotency_key": key, "file": upload})

    assert site.runner.wait_idle(30)
    assert len(worker_calls) == 1
    assert len(jobs_for_owner(owner_id=user.id)[0]) == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            b"mail,name\namy@example.com,Amy\n",
            "This file: bad header: unknown column &#x27;mail&#x27;",
        ),
        (
            b"email\namy@example.com\nbo@\xe9xample.com\n",
            "This file is not UTF-8: byte 0xe9 on line 3",
        ),
        (b'email\n"amy@example.com\n', "This file is not valid CSV"),
        (b"email\n\n", "This file has no rows to import."),
        (b"", "The submitted file is empty."),
    ],
)
def test_a_bad_file_is_a_field_error_and_nothing_is_stored_or_started(site, staff, data, error):
    user, client = staff

    answer = _upload(client, data)

    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert (
        'class="field field--error' in answer.content.decode()
        or "errorlist" in answer.content.decode()
    )
    assert jobs_for_owner(owner_id=user.id) == ([], None)
    assert _objects(_endpoint()) == []


def test_a_50_megabyte_file_is_refused_with_a_field_error(site, staff):
    user, client = staff
    big = b"email\n" + b"x" * (50 * 1024 * 1024)

    answer = _upload(client, big)

    assert answer.status_code == 200
    assert "This file is 50.0 MB; the limit is 10 MB." in answer.content.decode()
    assert jobs_for_owner(owner_id=user.id) == ([], None)
    assert _objects(_endpoint()) == []


def test_without_the_second_factor_staff_are_sent_to_it(site, make_user):
    make_user(email="staff@example.com", is_staff=True)
    client = Client()
    assert log_in(client, email="staff@example.com").status_code == 302

    page = client.get("/jobs/import/", follow=True)

    assert page.redirect_chain[-1][0].startswith("/accounts/2fa/")
    assert b'type="file"' not in page.content


def test_people_who_are_not_staff_cannot_import(site, make_user):
    ann = Client()
    make_user()
    assert log_in(ann).status_code == 302
    upload = SimpleUploadedFile("users.csv", USERS_CSV, content_type="text/csv")

    refused = ann.post("/jobs/import/", {"idempotency_key": "a" * 32, "file": upload}, follow=True)
    anonymous = Client().get("/jobs/import/", follow=True)

    assert refused.status_code == 403  # the admin's "no access" page
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b'type="file"' not in anonymous.content
    assert b"Import users" not in ann.get("/jobs/").content
    assert list(User.scan()) != []
    assert selectors.user_get_by_email(email="amy@example.com") is None
    assert _objects(_endpoint()) == []


def test_media_storage_down_means_the_import_could_not_start(site, staff, monkeypatch):
    _user, client = staff
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")

    job_id = _job_id(_upload(client, USERS_CSV))

    job = job_get(job_id=job_id)
    assert job.status == JobStatus.COULD_NOT_START
    assert "please try again in a few minutes" in job.error
    assert selectors.user_get_by_email(email="amy@example.com") is None


def test_a_file_with_too_many_rows_is_a_field_error(site, staff, monkeypatch):
    user, client = staff
    monkeypatch.setattr(forms, "IMPORT_MAX_ROWS", 2)

    answer = _upload(client, USERS_CSV)

    assert "This file has more than 2 rows: split it into smaller files" in answer.content.decode()
    assert jobs_for_owner(owner_id=user.id) == ([], None)
