"""The image step for real: podman builds, podman pushes to a registry, ECR records it.

moto's ECR has no registry (``GET /v2/`` is 404), so the push goes to Debian's
``docker-registry`` on loopback, with basic authentication whose password is the
one moto's ``GetAuthorizationToken`` hands out: the token reaches the registry
exactly as it would reach ECR. The pushed manifest is then recorded in moto's ECR
with ``PutImage`` (as ECR records a push), and the deploy's "is this tag already
there?" check finds it. The image is a tiny one built from a two-line
Containerfile (``make container-test`` builds the real Dockerfile).

Needs root, podman, skopeo and docker-registry (``ecs/install-container-tools.sh``,
which CI runs before ``make test``); skipped with the reason otherwise.
"""

import base64
import json
import os
import shutil
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deploy import image
from deploy.errors import DeployError
from tests.deploy.conftest import REGION, MotoServer
from tests.support import free_port, wait_for_http

pytestmark = [pytest.mark.no_dynamodb, pytest.mark.slow]

TOOLS = ("podman", "skopeo", "docker-registry")


def _missing() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (ecs/install-container-tools.sh)"
    if os.geteuid() != 0:
        return "needs root (rootful podman, as make container-test)"
    return None


requires_tools = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _bcrypt(password: str) -> str:
    """Hash ``password`` for an htpasswd file (the registry accepts bcrypt only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # crypt leaves in 3.13
        import crypt

    # bcrypt (the registry takes nothing else) at its lowest cost: a test password.
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))  # noqa: S324


@pytest.fixture
def ecr(aws: MotoServer) -> object:
    client = boto3.Session(region_name=REGION).client("ecr")
    client.create_repository(repositoryName="nebula-web", imageTagMutability="IMMUTABLE")
    return client


@pytest.fixture
def registry(ecr: object, tmp_path: Path) -> Iterator[str]:
    """Run docker-registry on a free loopback port, its password the ECR token's; yield host."""
    user, password = (
        base64.b64decode(
            ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        )
        .decode()
        .split(":", 1)
    )
    (tmp_path / "htpasswd").write_text(f"{user}:{_bcrypt(password)}\n")
    port = free_port()
    (tmp_path / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        f"auth: {{htpasswd: {{realm: nebula-test, path: {tmp_path / 'htpasswd'}}}}}\n"
    )
    with (tmp_path / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(tmp_path / "config.yml")], stdout=log, stderr=log
        )
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/v2/", process=process) == 401
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def tiny_image(tmp_path: Path) -> Iterator[str]:
    """Build a two-file image with the deploy program's own build step; yield its local name."""
    context = tmp_path / "context"
    context.mkdir()
    (context / "release.txt").write_text(uuid.uuid4().hex)  # a new image every run
    (context / "Containerfile").write_text('FROM scratch\nCOPY release.txt /\nCMD ["/release"]\n')
    tag = f"deploy-test-{uuid.uuid4().hex[:8]}"
    local = image.build(tag=tag, dockerfile=context / "Containerfile", context=context)
    try:
        yield local
    finally:
        subprocess.run(["podman", "rmi", "--force", local], capture_output=True, check=False)


def _local_auth(ecr: object, host: str) -> dict:
    """The deploy's ECR auth file content, for the local registry's host instead of ECR's."""
    [entry] = image.registry_auth(ecr)["auths"].values()
    return {"auths": {host: entry}}


@requires_tools
def test_the_image_is_pushed_with_the_ecr_token_and_recorded_in_ecr(
    ecr: object, registry: str, tiny_image: str, tmp_path: Path
) -> None:
    tag = tiny_image.rsplit(":", 1)[1]
    destination = f"{registry}/nebula-web:{tag}"
    auth = _local_auth(ecr, registry)
    assert not image.image_in_repository(ecr, "nebula-web", tag)

    image.push(tiny_image, destination, auth, tls_verify=False)

    (tmp_path / "auth.json").write_text(json.dumps(auth))
    manifest = subprocess.run(
        [
            *("skopeo", "inspect", "--raw", "--tls-verify=false"),
            *("--authfile", str(tmp_path / "auth.json"), f"docker://{destination}"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert json.loads(manifest)["mediaType"] == (
        "application/vnd.docker.distribution.manifest.v2+json"  # --format docker
    )
    ecr.put_image(repositoryName="nebula-web", imageManifest=manifest.decode(), imageTag=tag)
    assert image.image_in_repository(ecr, "nebula-web", tag)
    [stored] = ecr.batch_get_image(repositoryName="nebula-web", imageIds=[{"imageTag": tag}])[
        "images"
    ]
    assert json.loads(stored["imageManifest"]) == json.loads(manifest)


@requires_tools
def test_a_push_the_registry_refuses_stops_the_deploy(
    ecr: object, registry: str, tiny_image: str
) -> None:
    wrong = {"auths": {registry: {"auth": base64.b64encode(b"AWS:not-the-token").decode()}}}

    with pytest.raises(DeployError, match=r"^push to .* failed: podman exited with status"):
        image.push(tiny_image, f"{registry}/nebula-web:refused", wrong, tls_verify=False)


def test_the_ecr_auth_file_holds_the_token_for_the_registry_host(ecr: object) -> None:
    [data] = ecr.get_authorization_token()["authorizationData"]

    auth = image.registry_auth(ecr)

    host = data["proxyEndpoint"].removeprefix("https://")
    assert auth == {"auths": {host: {"auth": data["authorizationToken"]}}}
    assert "://" not in host
