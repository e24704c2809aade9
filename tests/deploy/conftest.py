"""A moto server for the deploy program, and an AWS account on it ready for a first deploy.

The server is ``tests.deploy.motoserver`` (moto's own server with the five gaps
that matter here corrected, see its docstring), started once per session with
``MOTO_ECS_SERVICE_RUNNING=2`` so ``services_stable`` can succeed, and reset
before every test. The deploy program reaches it through ``AWS_ENDPOINT_URL``,
the standard botocore setting, with nothing patched on the client side.
"""

import datetime
import functools
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from deploy.config import TEMPLATES, Config
from local.run import wait_for_line
from tests.support import ROOT, free_port

STANDINS = Path(__file__).parent / "templates"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


@dataclass
class MotoServer:
    """The deploy tests' moto server: its endpoint and the migrate exit-code file."""

    endpoint: str
    exit_codes: Path

    def set_exit_code(self, family: str, code: int) -> None:
        """Make every task of ``family`` started from now on exit with ``code``."""
        self.exit_codes.write_text(json.dumps({family: code}))


@pytest.fixture(scope="session")
def deploy_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Start the deploy tests' moto server for the session."""
    port = free_port()
    exit_codes = tmp_path_factory.mktemp("moto") / "exit-codes.json"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.deploy.motoserver"),
            *("--port", str(port), "--exit-codes", str(exit_codes)),
        ],
        cwd=ROOT,
        env={**os.environ, "MOTO_ECS_SERVICE_RUNNING": "2"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path_factory.getbasetemp() / "deploy-moto.log").open("wb"),
    )
    try:
        # Importing all of moto takes seconds, many more on a loaded machine.
        wait_for_line(process, b"READY", "the deploy tests' moto server", timeout=180)
        yield MotoServer(f"http://127.0.0.1:{port}", exit_codes)
    finally:
        process.stdin.close()  # the server stops when its stdin closes
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def aws(deploy_moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """Reset the server and point every boto3 client at it (standard botocore variables)."""
    deploy_moto.exit_codes.write_text("{}")
    request = urllib.request.Request(f"{deploy_moto.endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    # Tasks stop at once when described (moto's default walks one state per call).
    transition = urllib.request.Request(
        f"{deploy_moto.endpoint}/moto-api/state-manager/set-transition",
        data=json.dumps(
            {"model_name": "ecs::task", "transition": {"progression": "immediate"}}
        ).encode(),
        method="POST",
    )
    with urllib.request.urlopen(transition, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", deploy_moto.endpoint)
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    return deploy_moto


@dataclass
class Account:
    """What an operator makes before the first deploy, in the moto account."""

    session: boto3.Session
    parameters: dict[str, str]
    artifacts_bucket: str
    lambda_package: Path
    server: MotoServer
    templates: Path

    def config(self, tag: str, **changes: object) -> Config:
        """Return the deploy configuration for release ``tag`` (the stand-in templates mixed in)."""
        return Config(
            environment="test",
            region=REGION,
            image_tag=tag,
            artifacts_bucket=self.artifacts_bucket,
            parameters=self.parameters,
            templates=self.templates,
            poll_seconds=1,
            migrate_timeout=30,
            stable_timeout=30,
            **changes,
        )


@pytest.fixture
def account(aws: MotoServer, tmp_path: Path) -> Account:
    """A VPC with two subnets, a certificate, the artefacts bucket; the templates to deploy."""
    session = boto3.Session(region_name=REGION)
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    certificate = session.client("acm").import_certificate(**_certificate())
    session.client("s3").create_bucket(
        Bucket="nebula-test-artifacts",
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:nebula-test-"
    parameters = {
        "VpcId": vpc,
        "PublicSubnetIds": ",".join(subnets),
        "PrivateSubnetIds": ",".join(subnets),
        "CertificateArn": certificate["CertificateArn"],
        "MediaBucketName": "nebula-test-media",
        "AllowedHosts": "nebula.example.com",
        "DefaultFromEmail": "no-reply@nebula.example.com",
        "EmailHost": "email-smtp.eu-west-1.amazonaws.com",
        "SecretKeySecretArn": secret + "key",
        "OtpKeySecretArn": secret + "otp",
        "SmtpSecretArn": secret + "smtp",
    }
    # Real templates for what moto can create, stand-ins for the other two.
    templates = tmp_path / "templates"
    templates.mkdir()
    for stack in ("registry", "data", "service"):
        (templates / f"{stack}.yaml").write_bytes((TEMPLATES / f"{stack}.yaml").read_bytes())
    for stack in ("alarms", "lambdas"):
        (templates / f"{stack}.yaml").write_bytes((STANDINS / f"{stack}.yaml").read_bytes())
    (tmp_path / "openapi.json").write_bytes((ROOT / "lambdas" / "openapi.json").read_bytes())
    package = tmp_path / "lambda.zip"
    write_package(package, "v1")
    return Account(session, parameters, "nebula-test-artifacts", package, aws, templates)


@functools.cache
def _certificate() -> dict[str, bytes]:
    """A self-signed certificate for the load balancer (faster than moto's RSA request)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nebula.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return {
        "Certificate": certificate.public_bytes(serialization.Encoding.PEM),
        "PrivateKey": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }


def write_package(path: Path, version: str) -> None:
    """Write a tiny stand-in Lambda package (its content decides its key)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lambdas/__init__.py", f"VERSION = {version!r}\n")


def record_in_ecr(session: boto3.Session, image_uri: str) -> None:
    """Record a manifest for ``image_uri`` in moto's ECR, as a push would leave it."""
    repository, tag = image_uri.split("/", 1)[1].rsplit(":", 1)
    layer = hashlib.sha256(tag.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 32,
                "digest": f"sha256:{layer}",
            }
        ],
    }
    session.client("ecr").put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
