"""Job files in the media bucket: the site's one wrapper around S3.

Results are private objects; a person gets a presigned GET that lives a few minutes.
A bulk import's uploaded CSV is stored here too (``imports/<job id>.csv``) for the
worker to read.
botocore honours ``AWS_ENDPOINT_URL_S3`` itself (the stand-in on ``make run`` and in
the tests), so nothing here knows where S3 is.
"""

import functools
import os
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from datalayer import aws

LINK_SECONDS = 300


@functools.cache
def _client(region: str, endpoint: str | None) -> Any:
    # The endpoint is part of the cache key only: botocore reads it from the environment.
    with aws.client_lock:
        return aws.session().create_client(
            "s3", region_name=region, config=Config(signature_version="s3v4")
        )


@functools.cache
def _writer(region: str, endpoint: str | None) -> Any:
    # A web request waits on this one: bounded, as every AWS client on the request path.
    with aws.client_lock:
        return aws.session().create_client(
            "s3",
            region_name=region,
            config=Config(
                signature_version="s3v4",
                connect_timeout=2,
                read_timeout=10,
                retries={"total_max_attempts": 2},
            ),
        )


def result_url(*, key: str | None) -> str | None:
    """Return a short-lived link to download ``key``, or None if results are not downloadable."""
    bucket = settings.NEBULA_MEDIA_BUCKET
    if not key or not bucket:
        return None
    client = _client(settings.AWS_REGION, os.environ.get("AWS_ENDPOINT_URL_S3"))
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{key.rsplit("/", 1)[-1]}"',
        },
        ExpiresIn=LINK_SECONDS,
    )


def is_configured() -> bool:
    """Return True if job results can be offered for download here."""
    return bool(settings.NEBULA_MEDIA_BUCKET)


class MediaUnavailableError(Exception):
    """The media bucket could not take a file (not configured, unreachable, refused)."""


def import_file_key(*, job_id: str) -> str:
    """Return where a bulk import's uploaded file is kept: ``imports/<job id>.csv``."""
    return f"imports/{job_id}.csv"


def put_import_file(*, key: str, data: bytes) -> None:
    """Store an uploaded import file privately in the media bucket.

    Raises :class:`MediaUnavailableError` when the bucket is not configured or S3
    fails (the detail is chained for the log).
    """
    bucket = settings.NEBULA_MEDIA_BUCKET
    if not bucket:
        raise MediaUnavailableError("no media bucket is configured")
    client = _writer(settings.AWS_REGION, os.environ.get("AWS_ENDPOINT_URL_S3"))
    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/csv")
    except (BotoCoreError, ClientError) as exc:
        raise MediaUnavailableError(str(exc)) from exc
