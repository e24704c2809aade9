"""DynamoDB unavailable when a message is sent: the calm 503 page, nothing half-done."""

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core import mail
from django.test import Client

from contact.models import ContactMessage
from tests.contact.conftest import GOOD


@pytest.fixture
def put_fails():
    """Make the message's PutItem fail before it is sent, at the botocore edge."""
    events = ContactMessage._get_connection().connection.client.meta.events
    event = "before-send.dynamodb.PutItem"

    def refuse(**_):
        raise EndpointConnectionError(endpoint_url="http://dynamodb")

    events.register(event, refuse)
    yield
    events.unregister(event, refuse)


@pytest.mark.usefixtures("put_fails")
def test_an_unavailable_dynamodb_gives_the_503_page_and_sends_no_mail() -> None:
    response = Client().post("/contact/", GOOD)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again" in response.content.lower()
    assert mail.outbox == []


def test_nothing_is_stored_when_the_write_fails(put_fails) -> None:
    Client().post("/contact/", GOOD)

    assert ContactMessage.count() == 0
