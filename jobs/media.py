"""Links to job results in the media bucket: the site's one wrapper around S3.

Results are private objects; a person gets a presigned GET that lives a few minutes.
botocore honours ``AWS_ENDPOINT_URL_S3`` itself (the stand-in on ``make run`` and in
the tests), so nothing here knows where S3 is.
"""

import functools
import os
from typing import Any

import botocore.session
from botocore.config import Config
from django.conf import settings

LINK_SECONDS = 300


@functools.cache
def _client(region: str, endpoint: str | None) -> Any:
    # The endpoint is part of the cache key only: botocore reads it from the environment.
    # botocore, not boto3: importing boto3 would cost every web worker ~2 MiB for this.
    return botocore.session.get_session().create_client(
        "s3", region_name=region, config=Config(signature_version="s3v4")
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
