"""Avatar: make the sizes the site shows from a person's upload, with its metadata gone.

The site has checked the upload and stored it in the media bucket
(``media/avatar-uploads/<owner>/<job id>.<ext>``, the job's ``params["upload"]``) and
recorded the job on the person's user item as ``avatar_pending``. This function:

1. reads the original back (at most :data:`pictures.check.MAX_BYTES`) and checks it
   again with the same rules (:mod:`pictures`; defence in depth: the bucket is
   not only the site's to write);
2. makes each size (:func:`pictures.avatar.render_avatar`: EXIF orientation applied,
   pixels only, WebP) under ``media/avatars/<owner>/<job id>/<size>.webp``;
3. makes it the person's avatar: one conditional ``UpdateItem`` on the users table
   (:func:`avatar_set`), only while this job is still their latest upload and the
   account exists; the previous version's objects are then deleted;
4. deletes the original (it holds the metadata the outputs do not).

A rejected original fails the job with the check's reason (and is deleted: trying
again cannot help); a missing one asks for a new upload. Either way ``avatar_pending``
is cleared (if it is still this job), so the profile stops saying "being prepared".
If the person uploaded another picture, removed theirs or deleted the account
meanwhile, this job's outputs are deleted and the job ends without changing anything.
"""

import functools
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from datalayer import models
from datalayer.jobs import Job
from pictures import avatar as avatars
from pictures.check import MAX_BYTES, TOO_LARGE, PictureRejectedError

from .. import settings
from .base import JobError, Progress

USERS_BASE_NAME = "users"
MISSING = "Your picture could not be found (it was removed, or it is too old). Upload it again."
ACCOUNT_GONE = "Your account was deleted, so the picture was not used."
# Browsers may keep each size for good: a new avatar has new keys.
CACHE_CONTROL = "private, max-age=31536000, immutable"


class ReplacedError(Exception):
    """The person's latest upload is another one (or none): this job's result is not wanted."""


@functools.cache
def _s3() -> Any:
    return boto3.client(
        "s3",
        region_name=settings.region(),
        config=Config(connect_timeout=2, read_timeout=20, retries={"total_max_attempts": 3}),
    )


def read_original(key: str) -> bytes:
    """Return the upload's bytes; refuse one larger than the limit without reading it all."""
    try:
        answer = _s3().get_object(Bucket=settings.media_bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise JobError(MISSING) from exc
        raise
    with answer["Body"] as body:
        data = body.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        _delete([key])
        raise JobError(TOO_LARGE)
    return data


def _users_table() -> str:
    return models.table_name(USERS_BASE_NAME)


def avatar_set(*, owner_id: str, job_id: str) -> str | None:
    """Make version ``job_id`` the person's avatar; return the version it replaced.

    One ``UpdateItem``, conditional on the user existing and ``avatar_pending`` being
    this job (the site sets it before starting the job; a newer upload or a removal
    changes it). Raises :class:`ReplacedError` or :class:`JobError` (account gone).
    """
    client = models.connection().client
    try:
        answer = client.update_item(
            TableName=_users_table(),
            Key={"id": {"S": owner_id}},
            UpdateExpression="SET avatar = :job REMOVE avatar_pending",
            ConditionExpression="attribute_exists(id) AND avatar_pending = :job",
            ExpressionAttributeValues={":job": {"S": job_id}},
            ReturnValues="UPDATED_OLD",
        )
    except ClientError as exc:
        if not _condition_failed(exc):
            raise
        found = client.get_item(
            TableName=_users_table(), Key={"id": {"S": owner_id}}, ProjectionExpression="id"
        )
        if "Item" not in found:
            raise JobError(ACCOUNT_GONE) from exc
        raise ReplacedError from exc
    old = answer.get("Attributes", {}).get("avatar", {}).get("S")
    return old if old != job_id else None


def pending_clear(*, owner_id: str, job_id: str) -> None:
    """Forget a pending upload that cannot become an avatar (if it is still this job's)."""
    try:
        models.connection().client.update_item(
            TableName=_users_table(),
            Key={"id": {"S": owner_id}},
            UpdateExpression="REMOVE avatar_pending",
            ConditionExpression="attribute_exists(id) AND avatar_pending = :job",
            ExpressionAttributeValues={":job": {"S": job_id}},
        )
    except ClientError as exc:
        if not _condition_failed(exc):
            raise


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _delete(keys: list[str]) -> None:
    if keys:
        _s3().delete_objects(
            Bucket=settings.media_bucket(),
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )


def _size_keys(owner_id: str, version: str) -> list[str]:
    return [
        avatars.size_key(owner_id=owner_id, version=version, size=size) for size in avatars.SIZES
    ]


def _render(data: bytes, upload: str) -> dict[int, bytes]:
    try:
        return avatars.render_avatar(data)
    except PictureRejectedError as exc:
        # The same bytes will never pass: drop them.
        _delete([upload])
        raise JobError(str(exc)) from exc


def run(job: Job, progress: Progress) -> str | None:
    """Make the avatar of ``job``'s upload and show it; return the largest size's key."""
    upload = str(job.params.get("upload", ""))
    if not avatars.is_upload_key(upload, owner_id=job.owner_id, job_id=job.id):
        raise JobError("This avatar job names no picture of yours.")
    try:
        progress(10, "Reading your picture")
        data = read_original(upload)
        progress(30, "Checking your picture")
        rendered = _render(data, upload)
    except JobError:
        # Trying again cannot help: the profile stops saying "being prepared".
        pending_clear(owner_id=job.owner_id, job_id=job.id)
        raise
    progress(70, "Saving your avatar")
    keys = _size_keys(job.owner_id, job.id)
    for size, key in zip(avatars.SIZES, keys, strict=True):
        _s3().put_object(
            Bucket=settings.media_bucket(),
            Key=key,
            Body=rendered[size],
            ContentType=avatars.CONTENT_TYPE,
            CacheControl=CACHE_CONTROL,
        )
    try:
        replaced = avatar_set(owner_id=job.owner_id, job_id=job.id)
    except (ReplacedError, JobError) as exc:
        _delete([*keys, upload])
        if isinstance(exc, JobError):
            raise
        return None
    _delete([upload, *(_size_keys(job.owner_id, replaced) if replaced else [])])
    return keys[-1]
