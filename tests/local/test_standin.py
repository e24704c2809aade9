"""The stand-in keeps its data across restarts and answers only programs on this machine."""

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

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


def test_a_client_slow_to_send_its_body_holds_up_no_other_call(standin_port) -> None:
    """DynamoDB calls are served one at a time; a body still on its way is not one."""
    slow = socket.create_connection(("127.0.0.1", standin_port), timeout=10)
    try:
        head = "".join(f"{name}: {value}\r\n" for name, value in LIST_TABLES.items())
        slow.sendall(
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: 100\r\n\r\n{{".encode()
        )
        time.sleep(0.2)  # the stand-in has the head and waits for the other 99 bytes
        # One try, and a read timeout far below the stand-in's 120 s idle timeout.
        other = _client(
            standin_port, Config(retries={"max_attempts": 1}, read_timeout=5, connect_timeout=5)
        )

        assert other.list_tables()["TableNames"] == []
    finally:
        slow.close()


def test_a_transaction_never_fails_for_a_write_made_beside_it() -> None:
    """DynamoDB applies each call atomically; moto, on its server's threads, does not.

    A transaction copies the tables it writes while another thread's call adds an
    item: moto failed it with a 500 (a few in a hundred here), which a site under load
    met as a fault DynamoDB never has. The stand-in serves DynamoDB calls in turn.
    """
    port = free_port()
    process = start_standin(port)
    try:
        client = _client(port)
        client.create_table(
            TableName="busy",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for batch in range(80):  # a table big enough that copying it takes a while
            items = [{"id": {"S": f"old-{batch}-{n}"}, "v": {"S": "x" * 50}} for n in range(25)]
            client.batch_write_item(
                RequestItems={"busy": [{"PutRequest": {"Item": item}} for item in items]}
            )
        stop = threading.Event()
        failures: list[str] = []
        done = Counter()

        def write(kind: str, worker: int) -> None:
            # No retries: each 5xx is seen, not hidden by botocore trying again.
            one_try = _client(port, Config(retries={"max_attempts": 1, "mode": "standard"}))
            n = 0
            while not stop.is_set():
                n += 1
                ids = [f"{kind}-{worker}-{n}-{k}" for k in range(2)]
                try:
                    if kind == "transaction":
                        one_try.transact_write_items(
                            TransactItems=[
                                {"Put": {"TableName": "busy", "Item": {"id": {"S": i}}}}
                                for i in ids
                            ]
                        )
                    else:
                        one_try.put_item(TableName="busy", Item={"id": {"S": ids[0]}})
                except ClientError as error:
                    failures.append(error.response["Error"]["Code"])
                else:
                    done[kind] += 1

        threads = [
            threading.Thread(target=write, args=(kind, worker))
            for kind in ("transaction", "put")
            for worker in range(2)
        ]
        for thread in threads:
            thread.start()
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        process.kill()
        process.wait(30)

    assert failures == []
    assert done["transaction"] > 20, done
    assert done["put"] > 20, done
