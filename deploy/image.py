"""Build the site's image with podman and push it to ECR.

The Dockerfile is built unchanged (``podman build --format docker``: the OCI
format would drop the HEALTHCHECK). The push goes through ``podman push`` with an
auth file written from ``ecr:GetAuthorizationToken`` into a private temporary
directory and removed afterwards: the token never appears on a command line,
where any user of the machine could read it in the process list.

ECR's tags are immutable here (registry.yaml): a tag that is already in the
repository is never pushed again, it is that release.
"""

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy.errors import DeployError

LOCAL_NAME = "localhost/nebula"


def _run(command: Sequence[str], what: str, *, env: dict[str, str] | None = None) -> None:
    """Run a podman command with its output shown; stop with ``what`` if it fails."""
    try:
        result = subprocess.run(command, env=env, check=False)  # noqa: S603 - fixed tools
    except FileNotFoundError as exc:
        raise DeployError(
            f"{what}: {command[0]} is not installed (ecs/install-container-tools.sh)"
        ) from exc
    if result.returncode != 0:
        raise DeployError(f"{what}: {command[0]} exited with status {result.returncode}")


def build(*, tag: str, dockerfile: Path, context: Path, pip_conf: Path | None = None) -> str:
    """Build ``dockerfile`` into the local image ``localhost/nebula:<tag>``; return its name."""
    local = f"{LOCAL_NAME}:{tag}"
    command = ["podman", "build", "--format", "docker", "-t", local, "-f", str(dockerfile)]
    if pip_conf is not None:
        # The Dockerfile mounts it for its pip install only (docs/deploy.md).
        command += ["--secret", f"id=pipconf,src={pip_conf}"]
    _run([*command, str(context)], "image build failed")
    return local


def image_in_repository(ecr: Any, repository: str, tag: str) -> bool:
    """Say whether ``repository`` already holds ``tag``."""
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ImageNotFoundException":
            return False
        raise DeployError(f"cannot look up {repository}:{tag} in ECR: {exc}") from exc
    return True


def registry_auth(ecr: Any) -> dict[str, Any]:
    """Return a container auth file's content for the account's ECR registry."""
    try:
        [data] = ecr.get_authorization_token()["authorizationData"]
    except ClientError as exc:
        raise DeployError(f"cannot get an ECR login token: {exc}") from exc
    host = data["proxyEndpoint"].removeprefix("https://").removeprefix("http://")
    # The token is already base64("AWS:<password>"), the auth file's own format.
    base64.b64decode(data["authorizationToken"], validate=True)
    return {"auths": {host: {"auth": data["authorizationToken"]}}}


def push(local: str, destination: str, auth: dict[str, Any], *, tls_verify: bool = True) -> None:
    """Push the local image to ``destination`` (``host/repository:tag``)."""
    with tempfile.TemporaryDirectory(prefix="nebula-deploy-") as private:
        # mkdtemp's directory is 0700: only this user can read the token.
        auth_file = Path(private) / "auth.json"
        descriptor = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(auth, handle)
        command = ["podman", "push", "--authfile", str(auth_file)]
        if not tls_verify:
            command.append("--tls-verify=false")
        _run([*command, local, f"docker://{destination}"], f"push to {destination} failed")
