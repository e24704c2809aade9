"""Export my data: a ZIP of the person's profile and job history, as JSON and CSV.

The archive goes to the private media bucket (``NEBULA_MEDIA_BUCKET``) under
``exports/<owner id>/<job id>.zip``; the site offers it through a short-lived signed
link. The profile is read from the users table with a fixed list of attributes
(never the password hash); the job history through the data layer.
"""

import csv
import functools
import io
import json
import zipfile
from collections.abc import Iterable
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from datalayer import models
from datalayer.jobs import Job, jobs_for_owner

from .. import settings
from .base import JobError, Progress

USERS_BASE_NAME = "users"
# What a person gets of their own user record; never the password hash or counters.
PROFILE_FIELDS = (
    "id",
    "email",
    "display_name",
    "email_verified",
    "is_staff",
    "date_joined",
    "last_login",
)
JOB_FIELDS = ("id", "kind", "status", "created", "finished", "message", "error")
# An export never reads more than this many jobs (the by-owner index, 100 a page).
MAX_JOBS = 5000
_PAGE = 100


@functools.cache
def media_client() -> Any:
    """Return the S3 client of the media bucket (one per cold start)."""
    return boto3.client(
        "s3",
        region_name=settings.region(),
        config=Config(connect_timeout=2, read_timeout=20, retries={"total_max_attempts": 3}),
    )


def result_key(job: Job) -> str:
    """Return where the job's archive is stored in the media bucket."""
    return f"exports/{job.owner_id}/{job.id}.zip"


def read_profile(owner_id: str) -> dict[str, Any]:
    """Return the listed attributes of the person's user record."""
    # Every table is named prefix + base name; the users table is the site's own model.
    table = Job.Meta.table_name.removesuffix(Job._base_table_name) + USERS_BASE_NAME
    answer = models.connection().client.get_item(
        TableName=table,
        Key={"id": {"S": owner_id}},
        ProjectionExpression=", ".join(f"#f{n}" for n in range(len(PROFILE_FIELDS))),
        ExpressionAttributeNames={f"#f{n}": name for n, name in enumerate(PROFILE_FIELDS)},
        ConsistentRead=True,
    )
    item = answer.get("Item")
    if item is None:
        raise JobError("Your account could not be found, so there is nothing to export.")
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(item[name]) for name in PROFILE_FIELDS if name in item}


def read_jobs(owner_id: str) -> list[dict[str, Any]]:
    """Return the person's jobs, newest first, as plain rows."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < MAX_JOBS:
        page, cursor = jobs_for_owner(owner_id=owner_id, limit=_PAGE, cursor=cursor)
        rows.extend(_job_row(job) for job in page)
        if cursor is None:
            break
    return rows


def _job_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": str(job.kind),
        "status": str(job.status),
        "created": job.created.isoformat(),
        "finished": job.finished.isoformat() if job.finished else "",
        "message": job.message or "",
        "error": job.error or "",
    }


def _plain(value: Any) -> Any:
    # DynamoDB numbers come back as Decimal; JSON and CSV want plain values.
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | float):
        return int(value) if value == int(value) else float(value)
    return value


def _csv(rows: Iterable[dict[str, Any]], fields: Iterable[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _plain(value) for key, value in row.items()})
    return out.getvalue()


def build_archive(profile: dict[str, Any], jobs: list[dict[str, Any]]) -> bytes:
    """Return the ZIP: profile and jobs, each as JSON and as CSV, and a short README."""
    profile = {key: _plain(value) for key, value in profile.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Your Nebula data: profile.json/.csv (your account) and jobs.json/.csv "
            "(the background jobs you started, newest first).\n",
        )
        archive.writestr("profile.json", json.dumps(profile, indent=2, sort_keys=True))
        archive.writestr("profile.csv", _csv([profile], PROFILE_FIELDS))
        archive.writestr("jobs.json", json.dumps(jobs, indent=2))
        archive.writestr("jobs.csv", _csv(jobs, JOB_FIELDS))
    return buffer.getvalue()


def run(job: Job, progress: Progress) -> str:
    """Build the person's archive and store it privately; return its key."""
    progress(10, "Reading your profile")
    profile = read_profile(job.owner_id)
    progress(40, "Reading your jobs")
    jobs = read_jobs(job.owner_id)
    progress(70, "Writing your archive")
    key = result_key(job)
    media_client().put_object(
        Bucket=settings.media_bucket(),
        Key=key,
        Body=build_archive(profile, jobs),
        ContentType="application/zip",
        ContentDisposition='attachment; filename="nebula-export.zip"',
    )
    return key
