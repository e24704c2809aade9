"""The Lambda stack's API definition reaches CloudFormation from S3 (deploy/includes.py).

CloudFormation reads an ``AWS::Include`` only from S3: the real lambdas.yaml is
packaged here against the moto server's S3, as ``aws cloudformation package`` would.
"""

import hashlib
from pathlib import Path

import boto3
import pytest

from deploy import includes, templates
from deploy.config import TEMPLATES
from deploy.errors import DeployError
from deploy.stacks import TEMPLATE_BODY_LIMIT
from tests.deploy.conftest import REGION, MotoServer
from tests.support import ROOT

pytestmark = pytest.mark.no_dynamodb

BUCKET = "nebula-test-artifacts"
OPENAPI = ROOT / "lambdas" / "openapi.json"


@pytest.fixture
def s3(aws: MotoServer) -> object:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def test_the_api_definition_is_uploaded_by_content_and_the_location_rewritten(s3: object) -> None:
    template = TEMPLATES / "lambdas.yaml"
    assert includes.local_includes(templates.read(template)) == ["../../lambdas/openapi.json"]

    body, report = includes.package(template, s3, BUCKET)

    key = f"lambdas/include/{hashlib.sha256(OPENAPI.read_bytes()).hexdigest()}.json"
    assert report == [f"../../lambdas/openapi.json -> s3://{BUCKET}/{key} (uploaded)"]
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == OPENAPI.read_bytes()
    # Only the Location changed: the rest (short-form tags, comments) goes as written.
    original = template.read_text().splitlines()
    sent = body.splitlines()
    assert len(sent) == len(original)
    changed = [(a, b) for a, b in zip(original, sent, strict=True) if a != b]
    assert changed == [
        (
            "            Location: ../../lambdas/openapi.json",
            f"            Location: s3://{BUCKET}/{key}",
        )
    ]
    assert len(body.encode()) <= TEMPLATE_BODY_LIMIT
    # The same file again: same key, not sent twice.
    again, report = includes.package(template, s3, BUCKET)
    assert again == body
    assert report == [f"../../lambdas/openapi.json -> s3://{BUCKET}/{key} (already uploaded)"]


def test_a_missing_included_file_stops_before_any_upload(s3: object, tmp_path: Path) -> None:
    template = tmp_path / "api.yaml"
    template.write_text(
        "Resources:\n  Api:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n"
        "      Body:\n        Fn::Transform:\n          Name: AWS::Include\n"
        "          Parameters:\n            Location: gone.json\n"
    )
    with pytest.raises(DeployError, match=r"includes gone.json: .*gone.json is missing"):
        includes.package(template, s3, BUCKET)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_template_without_includes_is_sent_as_it_is(s3: object) -> None:
    template = TEMPLATES / "data.yaml"
    assert includes.package(template, s3, BUCKET) == (template.read_text(), [])
