"""The process's one botocore session keeps endpoint data for Nebula's services only."""

import botocore.session
import pytest

from datalayer import aws

pytestmark = pytest.mark.no_dynamodb

REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]


def _resolved(session, service: str, region: str) -> tuple:
    client = session.create_client(
        service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s"
    )
    signer = client._request_signer
    return (
        client.meta.endpoint_url,
        signer.region_name,
        signer.signing_name,
        signer._signature_version,
    )


@pytest.fixture
def no_endpoint_overrides(monkeypatch) -> None:
    # The tests point every service at the stand-in; compare what AWS itself would give.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("service", sorted(aws.SERVICES))
def test_each_kept_service_resolves_as_with_botocore_s_own_data(
    no_endpoint_overrides, service: str, region: str
) -> None:
    plain = botocore.session.get_session()

    assert _resolved(aws.session(), service, region) == _resolved(plain, service, region)


def test_the_loaded_endpoint_data_holds_only_the_kept_services() -> None:
    data = aws.session().get_component("data_loader").load_data("endpoints")
    full = botocore.session.get_session().get_component("data_loader").load_data("endpoints")

    assert [p["partition"] for p in data["partitions"]] == [
        p["partition"] for p in full["partitions"]
    ]
    for partition, original in zip(data["partitions"], full["partitions"], strict=True):
        assert set(partition["services"]) <= aws.SERVICES
        assert partition["regions"] == original["regions"]
        assert partition["defaults"] == original["defaults"]
    aws_partition = data["partitions"][0]
    assert set(aws_partition["services"]) == aws.SERVICES
    assert len(full["partitions"][0]["services"]) > 300  # what every worker held before


def test_a_service_left_out_still_gets_a_client(no_endpoint_overrides) -> None:
    client = aws.session().create_client(
        "sqs", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    assert client.meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
