"""The stand-in keeps its data across restarts and answers only programs on this machine."""

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.support import ROOT, dynamodb_client, free_port, start_standin

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


def test_the_port_answers_only_once_the_snapshot_is_restored(tmp_path) -> None:
    # A site running while the stand-in restarts must never meet a table missing or
    # half-filled (tests/proof/test_load_and_faults.py restarts it under load).
    snapshot = tmp_path / "dynamodb.json"
    items = [{"id": {"S": f"t{i}"}} for i in range(400)]
    snapshot.write_text(
        json.dumps(
            {
                "version": 1,
                "tables": [
                    {
                        "TableName": "things",
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                        "TimeToLive": None,
                        "Items": items,
                    }
                ],
            }
        )
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.standin", "--port", str(port), "--snapshot", str(snapshot)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    scan = {**LIST_TABLES, "X-Amz-Target": "DynamoDB_20120810.Scan"}
    body = json.dumps({"TableName": "things", "Select": "COUNT"}).encode()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, answer = _request(port, "POST", scan, body)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the stand-in never answered"
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(30)

    assert status == 200, answer
    assert json.loads(answer)["Count"] == 400


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


def test_the_standin_keeps_the_connection_open_between_calls(standin_port) -> None:
    """One connection carries many calls, as with DynamoDB: botocore's pool reuses it.

    The refused request's body is never read by the app, and the large one is read
    in parts: what follows each on the connection must still be the next request.
    """
    connection = http.client.HTTPConnection("127.0.0.1", standin_port, timeout=10)
    refused = {**LIST_TABLES, "Origin": "https://evil.example"}
    large = json.dumps({"Limit": 10, "ExclusiveStartTableName": "a" * 200_000}).encode()
    try:
        answers = []
        for headers, body in [
            (LIST_TABLES, b"{}"),
            (refused, b'{"ExclusiveStartTableName": "unread"}'),
            (LIST_TABLES, large),
            (LIST_TABLES, b"{}"),
        ]:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Connection"), response.read()))
            sock = connection.sock
            assert sock is not None, f"the stand-in closed the connection after {len(answers)}"
        connection.request("POST", "/", body=b"{}", headers=LIST_TABLES)
        assert connection.sock is sock  # the same socket throughout
        last = connection.getresponse()
        assert (last.status, json.loads(last.read())) == (200, {"TableNames": []})
    finally:
        connection.close()

    assert [status for status, _, _ in answers] == [200, 403, 200, 200]
    assert [header for _, header, _ in answers] == [None] * 4


def test_a_kept_connection_answers_without_waiting_for_a_delayed_ack(standin_port) -> None:
    """Werkzeug writes an answer's head and body apart: with Nagle's algorithm on, each
    call on a kept connection waited ~40 ms for the client's delayed ACK (a stall, not
    noise: a call takes ~2 ms). The median of 15 calls stays far from it."""
    client = dynamodb_client(standin_port)
    client.list_tables()
    durations = []
    for _ in range(15):
        started = time.perf_counter()
        client.list_tables()
        durations.append(time.perf_counter() - started)

    assert sorted(durations)[len(durations) // 2] < 0.02
