"""The consistency check of the session lists: whole after every session write, and able to fail."""

import os

import pytest
from django.test import Client

from accounts import services
from accounts.models import Session, session_entry_name, session_list_key
from accounts.session_keys import public_id, stored_id
from tests.accounts.conftest import PASSWORD, log_in
from tests.support import dynamodb_client

from .consistency import check_tables

PREFIX = "nebula-test-"


@pytest.fixture
def tables(dynamodb):
    """A boto3 client on the shared server, its tables fresh (the ``dynamodb`` fixture)."""
    return dynamodb_client(int(os.environ["AWS_ENDPOINT_URL_DYNAMODB"].rsplit(":", 1)[1]))


@pytest.fixture
def browsers():
    """Two browsers signed in as one user, and the user."""
    user = services.user_create(email="ann@example.com", password=PASSWORD)
    laptop, phone = Client(), Client()
    assert log_in(laptop).status_code == 302
    assert log_in(phone).status_code == 302
    return user, laptop, phone


def _stored(client: Client) -> str:
    return stored_id(client.cookies["sessionid"].value)


def test_every_session_write_keeps_the_lists_whole(tables, browsers) -> None:
    user, laptop, phone = browsers
    assert check_tables(tables, PREFIX) == []

    # Ending one, a password change ending the others, signing out, deleting the account.
    third = Client()
    assert log_in(third).status_code == 302
    assert services.session_end(user_id=user.id, public_id=public_id(_stored(third)))
    assert check_tables(tables, PREFIX) == []
    services.user_change_password(
        user=user, password=PASSWORD + "!", keep_session_keys={laptop.cookies["sessionid"].value}
    )
    assert check_tables(tables, PREFIX) == []
    assert log_in(phone, password=PASSWORD + "!").status_code == 302
    phone.post("/accounts/logout/")
    assert check_tables(tables, PREFIX) == []
    services.user_delete(user=user)
    laptop.get("/accounts/profile/")
    assert check_tables(tables, PREFIX) == []
    assert [s.id for s in Session.scan()] == []


def test_a_session_without_its_entry_is_found(tables, browsers) -> None:
    user, laptop, _phone = browsers
    tables.update_item(
        TableName=f"{PREFIX}sessions",
        Key={"key": {"S": session_list_key(user.id)}},
        UpdateExpression="REMOVE #e",
        ExpressionAttributeNames={"#e": session_entry_name(_stored(laptop))},
    )

    problems = check_tables(tables, PREFIX)

    assert problems == [f"session {_stored(laptop)[:12]}…: not in its user's session list"]


def test_an_entry_without_its_session_is_found(tables, browsers) -> None:
    user, laptop, _phone = browsers
    tables.delete_item(TableName=f"{PREFIX}sessions", Key={"key": {"S": _stored(laptop)}})

    problems = check_tables(tables, PREFIX)

    assert problems == [f"session list of {user.id}: {_stored(laptop)[:12]}… is no live session"]


def test_an_entry_that_differs_from_its_session_is_found(tables, browsers) -> None:
    _user, laptop, _phone = browsers
    tables.update_item(
        TableName=f"{PREFIX}sessions",
        Key={"key": {"S": _stored(laptop)}},
        UpdateExpression="SET #i = :i",
        ExpressionAttributeNames={"#i": "ip"},
        ExpressionAttributeValues={":i": {"S": "192.0.2.99"}},
    )

    problems = check_tables(tables, PREFIX)

    assert problems == [f"session {_stored(laptop)[:12]}…: its list entry differs (ip)"]


def test_a_list_of_a_missing_user_is_found(tables) -> None:
    tables.put_item(TableName=f"{PREFIX}sessions", Item={"key": {"S": session_list_key("a" * 32)}})

    assert check_tables(tables, PREFIX) == [f"session list of a missing user {'a' * 32}"]
