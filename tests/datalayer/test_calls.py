"""The counting hooks go on a client once: registering is not free."""

import botocore.session
import pytest

from datalayer import calls

pytestmark = pytest.mark.no_dynamodb


def test_instrumenting_a_client_again_registers_nothing(monkeypatch) -> None:
    client = botocore.session.get_session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    calls.instrument(client)
    registered = []
    monkeypatch.setattr(client.meta.events, "register", lambda *a, **k: registered.append(a))

    # Called before every DynamoDB operation (datalayer.models).
    calls.instrument(client)

    assert registered == []
