"""Export my data: a ZIP of the person's profile, sessions, contact messages and jobs.

Each as JSON and as CSV. The archive goes to the private media bucket
(``NEBULA_MEDIA_BUCKET``) under ``exports/<owner id>/<job id>.zip``; the site offers it
through a short-lived signed link. Every record is read with a fixed list of
attributes, so nothing secret can slip in:

- the profile from ``users`` (never the password hash);
- the live sessions from ``sessions``' ``by-user`` index: when, from where, which
  browser (never the session key's hash or the session data);
- the contact messages sent while signed in, from ``contact-messages``' ``by-user``
  index, with the replies received (never staff's ids or the mail bookkeeping).
  Messages sent signed out are not included: their address was never verified, so
  anyone could have typed it;
- the job history through the data layer.
"""

import csv
import functools
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
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
SESSIONS_BASE_NAME = "sessions"
# What a person sees of their sessions (as on the sessions page); never "key" or "data".
SESSION_FIELDS = ("created", "last_seen", "expires", "ip", "user_agent")
MESSAGES_BASE_NAME = "contact-messages"
# What a person gets of a message they sent; never staff ids or mail statuses.
MESSAGE_FIELDS = ("id", "created", "name", "email", "subject", "message", "status", "handled_at")
MESSAGE_CSV_FIELDS = (*MESSAGE_FIELDS, "replies")
REPLY_FIELDS = ("sent_at", "subject", "body")
BY_USER_INDEX = "by-user"
# An export never reads more than this many sessions or messages (1 MB pages).
MAX_SESSIONS = 1000
MAX_MESSAGES = 5000
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
    table = models.table_name(USERS_BASE_NAME)
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


def _query_by_user(
    base_name: str, owner_id: str, fields: tuple[str, ...], limit: int, *, newest_first: bool
) -> list[dict[str, Any]]:
    """Return the listed attributes of the owner's items in a table's ``by-user`` index."""
    names = {f"#f{n}": name for n, name in enumerate(fields)}
    request: dict[str, Any] = {
        "TableName": models.table_name(base_name),
        "IndexName": BY_USER_INDEX,
        "KeyConditionExpression": "#owner = :owner",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": {**names, "#owner": "user_id"},
        "ExpressionAttributeValues": {":owner": {"S": owner_id}},
        "ScanIndexForward": not newest_first,
    }
    client = models.connection().client
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        answer = client.query(**request)
        items.extend(
            {key: deserializer.deserialize(value) for key, value in item.items()}
            for item in answer.get("Items", [])
        )
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return items[:limit]


def _iso_from_epoch(value: Any) -> str:
    return datetime.fromtimestamp(int(value), UTC).isoformat()


def read_sessions(owner_id: str, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Return the person's live sessions, oldest first (expired ones are left out)."""
    now = now or datetime.now(UTC)
    rows = []
    for item in _query_by_user(
        SESSIONS_BASE_NAME, owner_id, SESSION_FIELDS, MAX_SESSIONS, newest_first=False
    ):
        expires = item.get("expires")
        if expires is not None and int(expires) <= now.timestamp():
            continue  # DynamoDB deletes expired sessions late: they are over all the same
        rows.append(
            {
                "created": item.get("created", ""),
                "last_seen": item.get("last_seen", ""),
                "expires": _iso_from_epoch(expires) if expires is not None else "",
                "ip": item.get("ip") or "",
                "user_agent": item.get("user_agent") or "",
            }
        )
    return sorted(rows, key=lambda row: row["created"])


def read_messages(owner_id: str) -> list[dict[str, Any]]:
    """Return the contact messages the person sent signed in, newest first, with replies."""
    rows = []
    for item in _query_by_user(
        MESSAGES_BASE_NAME,
        owner_id,
        (*MESSAGE_FIELDS, "replies"),
        MAX_MESSAGES,
        newest_first=True,
    ):
        row: dict[str, Any] = {name: item.get(name) or "" for name in MESSAGE_FIELDS}
        row["replies"] = [
            {name: reply.get(name, "") for name in REPLY_FIELDS}
            for reply in item.get("replies") or []
        ]
        rows.append(row)
    return rows


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


def build_archive(
    profile: dict[str, Any],
    jobs: list[dict[str, Any]],
    sessions: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> bytes:
    """Return the ZIP: profile, sessions, messages and jobs, each as JSON and CSV; a README."""
    profile = {key: _plain(value) for key, value in profile.items()}
    sessions = sessions or []
    messages = messages or []
    message_rows = [{**message, "replies": len(message["replies"])} for message in messages]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Your Nebula data, each part as JSON and as CSV:\n"
            "- profile: your account;\n"
            "- sessions: where you are signed in now (when, from which address and browser);\n"
            "- messages: what you wrote through the contact form while signed in, newest "
            "first, and our replies (messages.csv counts the replies; messages.json has "
            "them);\n"
            "- jobs: the background jobs you started, newest first.\n",
        )
        archive.writestr("profile.json", json.dumps(profile, indent=2, sort_keys=True))
        archive.writestr("profile.csv", _csv([profile], PROFILE_FIELDS))
        archive.writestr("sessions.json", json.dumps(sessions, indent=2))
        archive.writestr("sessions.csv", _csv(sessions, SESSION_FIELDS))
        archive.writestr("messages.json", json.dumps(messages, indent=2))
        archive.writestr("messages.csv", _csv(message_rows, MESSAGE_CSV_FIELDS))
        archive.writestr("jobs.json", json.dumps(jobs, indent=2))
        archive.writestr("jobs.csv", _csv(jobs, JOB_FIELDS))
    return buffer.getvalue()


def run(job: Job, progress: Progress) -> str:
    """Build the person's archive and store it privately; return its key."""
    progress(10, "Reading your profile")
    profile = read_profile(job.owner_id)
    progress(25, "Reading your sessions")
    sessions = read_sessions(job.owner_id)
    progress(40, "Reading your messages")
    messages = read_messages(job.owner_id)
    progress(55, "Reading your jobs")
    jobs = read_jobs(job.owner_id)
    progress(70, "Writing your archive")
    key = result_key(job)
    media_client().put_object(
        Bucket=settings.media_bucket(),
        Key=key,
        Body=build_archive(profile, jobs, sessions, messages),
        ContentType="application/zip",
        ContentDisposition='attachment; filename="nebula-export.zip"',
    )
    return key
