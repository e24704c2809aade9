"""Upload a template's ``AWS::Include`` files and point the template at the copies.

What ``aws cloudformation package`` does for ``AWS::Include``: CloudFormation
reads an included file only from S3, so a local ``Location`` (relative to the
template, as ``make iac-check`` reads it) is uploaded to the artefacts bucket,
keyed by its content (``lambdas/include/<sha256><suffix>``), and the template
body sent to CloudFormation names ``s3://<bucket>/<key>`` instead. An unchanged
file keeps its key, so the stack sees no change. ``lambdas.yaml`` includes the
jobs API's one definition, ``lambdas/openapi.json``.

The template is rewritten as text (only the ``Location`` values change), so its
short-form tags, comments and layout reach CloudFormation as written.
"""

import hashlib
import re
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy.errors import DeployError
from deploy.templates import read

PREFIX = "lambdas/include/"
INCLUDE = "AWS::Include"


def local_includes(node: Any) -> list[str]:
    """Return the local ``Location`` of every ``AWS::Include`` in a parsed template."""
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found += local_includes(item)
    elif isinstance(node, dict):
        transform = node.get("Fn::Transform")
        if isinstance(transform, dict) and transform.get("Name") == INCLUDE:
            location = (transform.get("Parameters") or {}).get("Location")
            if isinstance(location, str) and "://" not in location:
                found.append(location)
        for value in node.values():
            found += local_includes(value)
    return found


def include_key(path: Path) -> str:
    """Return the included file's key in the artefacts bucket."""
    return f"{PREFIX}{hashlib.sha256(path.read_bytes()).hexdigest()}{path.suffix}"


def _upload(s3: Any, bucket: str, path: Path, key: str) -> bool:
    """Upload ``path`` as ``key`` unless the bucket has it; return whether it was sent."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise DeployError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
    else:
        return False
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ServerSideEncryption="AES256",
            ContentType="application/json" if path.suffix == ".json" else "text/yaml",
        )
    except ClientError as exc:
        raise DeployError(f"cannot upload {path.name} to s3://{bucket}/{key}: {exc}") from exc
    return True


def package(template: Path, s3: Any, bucket: str) -> tuple[str, list[str]]:
    """Return the template body with its local includes uploaded, and what was done.

    Each line of the report reads ``<file> -> s3://bucket/key (uploaded|already uploaded)``.
    A template without a local include comes back as it is.
    """
    body = template.read_text()
    report: list[str] = []
    for location in dict.fromkeys(local_includes(read(template))):
        path = (template.parent / location).resolve()
        if not path.is_file():
            raise DeployError(f"template {template.name} includes {location}: {path} is missing")
        key = include_key(path)
        pattern = re.compile(
            r"^(\s*Location:\s*)(['\"]?)" + re.escape(location) + r"\2\s*$", re.MULTILINE
        )
        url = f"s3://{bucket}/{key}"
        body, count = pattern.subn(lambda m, url=url: f"{m.group(1)}{url}", body)
        if count == 0:
            raise DeployError(
                f"template {template.name}: write the AWS::Include of {location} as "
                f"'Location: {location}' on one line, so that the deploy can point it at S3"
            )
        sent = _upload(s3, bucket, path, key)
        state = "uploaded" if sent else "already uploaded"
        report.append(f"{location} -> s3://{bucket}/{key} ({state})")
    return body, report
