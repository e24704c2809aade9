"""The stand-in's snapshot keeps tables, indexes, TTL settings and items across restarts."""

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
