"""Package the Lambda code and upload it to the artefacts bucket, keyed by its content.

``lambdas.build`` makes the same bytes from the same sources and requirements, so
the key (``lambdas/<sha256>.zip``) changes exactly when the code does: an
unchanged package is not uploaded again, and the Lambda stack sees no change.
"""

import hashlib
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy.errors import DeployError

PREFIX = "lambdas/"


def package(output: Path) -> Path:
    """Build the deployment package at ``output`` (pip downloads for python3.13)."""
    from lambdas.build import build

    try:
        return build(output)
    except Exception as exc:  # pip or the zip: whatever it is, the deploy stops here
        raise DeployError(f"the Lambda package could not be built: {exc}") from exc


def code_key(path: Path) -> str:
    """Return the package's key in the artefacts bucket."""
    return f"{PREFIX}{hashlib.sha256(path.read_bytes()).hexdigest()}.zip"


def upload(s3: Any, bucket: str, path: Path) -> tuple[str, bool]:
    """Upload the package unless the bucket has it; return its key and whether it was sent."""
    key = code_key(path)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise DeployError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
    else:
        return key, False
    try:
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ServerSideEncryption": "AES256"})
    except (ClientError, OSError) as exc:
        raise DeployError(
            f"cannot upload the Lambda package to s3://{bucket}/{key}: {exc}"
        ) from exc
    return key, True
