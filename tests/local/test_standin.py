"""The stand-in keeps its data across restarts and answers only programs on this machine."""

import http.client
import json
from collections.abc import Iterator

import pytest

from tests.support import dynamodb_client, free_port, start_standin

_client = dynamodb_client


def test_snapshot_survives_a_restart(tmp_path) -> None:
    snapshot = tmp_path / "dynamodb.json"
    port = free_port()
    process = start_standin(port, "--snapshot", str(snapshot))
    try:
        client = _client(port)
        client.create_table(
            TableName="things",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "owner", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-owner",
                    "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName="things",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )
        for i in range(30):  # more than one BatchWriteItem's worth
            client.put_item(
                TableName="things",
                Item={"id": {"S": f"t{i}"}, "owner": {"S": "ann"}, "n": {"N": str(i)}},
            )
    finally:
        process.terminate()
        assert process.wait(30) == 0

    port = free_port()
    process = start_standin(port, "--snapshot", str(snapshot))
    try:
        client = _client(port)
        item = client.get_item(TableName="things", Key={"id": {"S": "t7"}})["Item"]
        assert item["n"] == {"N": "7"}
        by_owner = client.query(
            TableName="things",
            IndexName="by-owner",
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": "ann"}},
        )
        assert by_owner["Count"] == 30
        ttl = client.describe_time_to_live(TableName="things")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expires"
    finally:
        process.terminate()
        process.wait(30)


def test_an_unreadable_snapshot_is_moved_aside_not_lost(tmp_path) -> None:
    snapshot = tmp_path / "dynamodb.json"
    snapshot.write_text("{not json")
    port = free_port()
    process = start_standin(port, "--snapshot", str(snapshot))
    process.terminate()
    process.wait(30)

    assert (tmp_path / "dynamodb.corrupt").read_text() == "{not json"


@pytest.fixture(scope="module")
def standin_port() -> Iterator[int]:
    port = free_port()
    process = start_standin(port)
    yield port
    process.terminate()
    process.wait(30)


def _request(port: int, method: str, headers: dict[str, str], body: bytes = b"") -> tuple:
    """Send one raw HTTP request; return (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


LIST_TABLES = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", {**LIST_TABLES, "Origin": "https://evil.example"}),
        ("POST", {**LIST_TABLES, "Origin": "null"}),
        ("POST", {**LIST_TABLES, "Origin": "http://127.0.0.1:8000"}),
        (
            "OPTIONS",
            {
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-amz-target,content-type,authorization",
            },
        ),
        ("POST", {**LIST_TABLES, "Host": "rebound.evil.example:8001"}),
    ],
    ids=["other-site", "null-origin", "the-site-itself", "preflight", "dns-rebinding"],
)
def test_the_standin_refuses_what_a_web_page_could_send(standin_port, method, headers) -> None:
    status, response_headers, _ = _request(standin_port, method, headers, b"{}")

    assert status == 403
    assert not [name for name in response_headers if name.lower().startswith("access-control-")]


def test_programs_on_this_machine_still_use_the_standin(standin_port) -> None:
    status, _, body = _request(standin_port, "POST", LIST_TABLES, b"{}")
    assert status == 200
    assert json.loads(body) == {"TableNames": []}

    client = dynamodb_client(standin_port)  # botocore sends no Origin header
    assert client.list_tables()["TableNames"] == []
