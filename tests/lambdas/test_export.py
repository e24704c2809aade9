"""Export my data: the archive's content, and the whole job against moto's S3 and DynamoDB."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import Session, session_list_key
from accounts.session_keys import stored_id
from contact import services as contact_services
from contact.models import ContactMessage
from datalayer.jobs import JobKind, JobStatus, job_create, job_get
from lambdas.work import export
from lambdas.worker import run_job
from tests.accounts.conftest import PASSWORD, log_in
from tests.lambdas.conftest import MEDIA_BUCKET

OWNER = "c" * 32


@pytest.mark.no_dynamodb
def test_the_archive_holds_profile_and_jobs_as_json_and_csv():
    profile = {"id": OWNER, "email": "ada@example.com", "display_name": 'Ada, "the" first'}
    jobs = [{"id": "j1", "kind": "export", "status": "succeeded", "created": "2026-01-01"}]

    archive = zipfile.ZipFile(io.BytesIO(export.build_archive(profile, jobs)))

    assert sorted(archive.namelist()) == [
        "README.txt",
        "jobs.csv",
        "jobs.json",
        "messages.csv",
        "messages.json",
        "profile.csv",
        "profile.json",
        "sessions.csv",
        "sessions.json",
    ]
    assert json.loads(archive.read("profile.json")) == profile
    assert json.loads(archive.read("jobs.json")) == jobs
    [row] = csv.DictReader(io.StringIO(archive.read("profile.csv").decode()))
    assert row["display_name"] == 'Ada, "the" first'
    [job_row] = csv.DictReader(io.StringIO(archive.read("jobs.csv").decode()))
    assert job_row["status"] == "succeeded"


def _put_user(prefix: str = "nebula-test-") -> None:
    boto3.client("dynamodb", region_name="eu-west-1").put_item(
        TableName=f"{prefix}users",
        Item={
            "id": {"S": OWNER},
            "email": {"S": "ada@example.com"},
            "password": {"S": "argon2$secret-hash"},
            "display_name": {"S": "Ada"},
            "email_verified": {"BOOL": True},
            "email_changes": {"N": "2"},
        },
    )


def test_an_export_job_writes_the_archive_privately_and_succeeds(lambda_env):
    _put_user()
    older, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="old", run_seconds=60
    )
    job, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="new", run_seconds=60
    )

    run_job({"job_id": job.id, "kind": "export", "owner_id": OWNER})

    done = job_get(job_id=job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert done.result_key == f"exports/{OWNER}/{job.id}.zip"
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=lambda_env)
    stored = s3.get_object(Bucket=MEDIA_BUCKET, Key=done.result_key)
    archive = zipfile.ZipFile(io.BytesIO(stored["Body"].read()))
    profile = json.loads(archive.read("profile.json"))
    assert profile["email"] == "ada@example.com"
    assert "password" not in profile
    assert "email_changes" not in profile
    assert {row["id"] for row in json.loads(archive.read("jobs.json"))} == {older.id, job.id}
    grants = s3.get_object_acl(Bucket=MEDIA_BUCKET, Key=done.result_key)["Grants"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)  # no group


def test_an_export_for_a_missing_account_fails_with_a_reason(lambda_env):
    job, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="k", run_seconds=60
    )

    run_job({"job_id": job.id, "kind": "export", "owner_id": OWNER})

    failed = job_get(job_id=job.id)
    assert failed.status == JobStatus.FAILED
    assert "could not be found" in failed.error


def test_the_export_holds_my_live_sessions_and_my_messages_and_nothing_secret(lambda_env):
    """Sessions and contact messages made through the site, then the export's ZIP opened."""
    ann = account_services.user_create(
        email="ann@example.com", password=PASSWORD, email_verified=True
    )
    other = account_services.user_create(email="bob@example.com", password=PASSWORD)
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    assert log_in(browser).status_code == 302
    assert log_in(Client(), email="bob@example.com").status_code == 302
    cookie = browser.cookies["sessionid"].value
    sent = browser.post(
        "/contact/",
        {"name": "Ann", "email": "ann@example.com", "subject": "Hello", "message": "Mine."},
    )
    assert sent.status_code == 302
    [mine] = list(ContactMessage.scan())
    contact_services.message_add_reply(
        message_id=mine.id,
        actor_id=other.id,
        actor_email="staff@example.com",
        subject="Re: Hello",
        body="Our answer.",
    )
    # Signed out with Ann's address (unverified), and signed in as someone else: not Ann's.
    contact_services.message_create(
        name="Ann?", email="ann@example.com", subject="Spoof", message="Not hers."
    )
    contact_services.message_create(
        name="Bob", email="bob@example.com", subject="Bob's", message="His.", user_id=other.id
    )
    # A session past its expiry that DynamoDB has not deleted yet is over all the same.
    expired = Session(
        "f" * 64,
        data="x",
        user_id=ann.id,
        created=datetime.now(UTC),
        last_seen=datetime.now(UTC),
        expires=datetime.now(UTC) - timedelta(seconds=1),
    )
    expired.save()
    # Ann's session list shares the table, out of the by-user index: no session to export.
    assert Session.count(session_list_key(ann.id)) == 1
    job, _ = job_create(
        owner_id=ann.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )

    run_job({"job_id": job.id, "kind": "export", "owner_id": ann.id})

    done = job_get(job_id=job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=lambda_env)
    body = s3.get_object(Bucket=MEDIA_BUCKET, Key=done.result_key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert {"sessions.json", "sessions.csv", "messages.json", "messages.csv"} <= set(
        archive.namelist()
    )
    [session] = json.loads(archive.read("sessions.json"))
    assert set(session) == {"created", "last_seen", "expires", "ip", "user_agent"}
    assert session["user_agent"].endswith("Firefox/130.0")
    assert session["ip"] == "127.0.0.1"
    [session_row] = csv.DictReader(io.StringIO(archive.read("sessions.csv").decode()))
    assert session_row["user_agent"] == session["user_agent"]
    [message] = json.loads(archive.read("messages.json"))
    assert (message["id"], message["subject"], message["message"]) == (mine.id, "Hello", "Mine.")
    assert message["replies"] == [
        {"sent_at": message["replies"][0]["sent_at"], "subject": "Re: Hello", "body": "Our answer."}
    ]
    [message_row] = csv.DictReader(io.StringIO(archive.read("messages.csv").decode()))
    assert (message_row["subject"], message_row["replies"]) == ("Hello", "1")
    # Nothing that could sign anyone in, and nothing about staff, anywhere in the archive.
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode()
    stored = stored_id(cookie)
    for secret in (cookie, cookie.split(".")[-1], stored, other.id, "staff@example.com"):
        assert secret not in everything
    assert "Not hers." not in everything
    assert "His." not in everything
