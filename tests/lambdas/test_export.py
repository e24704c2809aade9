"""Export my data: the archive's content, and the whole job against moto's S3 and DynamoDB."""

import csv
import io
import json
import zipfile

import boto3
import pytest

from datalayer.jobs import JobKind, JobStatus, job_create, job_get
from lambdas.work import export
from lambdas.worker import run_job
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
        "profile.csv",
        "profile.json",
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
