"""A DynamoDB fault during sign-up: a calm error page and never half an account."""

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from django.test import Client

from accounts.models import EmailClaim, User
from datalayer.models import connection
from tests.accounts.conftest import PASSWORD

SIGN_UP = {"email": "dee@example.com", "password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture
def fault_on():
    """Make one DynamoDB operation fail, before it is sent or after it succeeded.

    The hook sits on the botocore client: the edge where AWS itself would fail.
    """
    events = connection().client.meta.events
    registered = []

    def install(operation: str, *, when: str):
        def before(**_):
            raise EndpointConnectionError(endpoint_url="http://dynamodb")

        def after(**_):
            raise ReadTimeoutError(endpoint_url="http://dynamodb")

        event = f"{'before-send' if when == 'before' else 'after-call'}.dynamodb.{operation}"
        handler = before if when == "before" else after
        events.register(event, handler)
        registered.append((event, handler))
        return lambda: events.unregister(event, handler)

    yield install
    for event, handler in registered:
        events.unregister(event, handler)


def test_a_fault_before_the_write_leaves_nothing_and_shows_the_503_page(fault_on) -> None:
    fault_on("TransactWriteItems", when="before")

    response = Client().post("/accounts/signup/", SIGN_UP)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again" in response.content.lower()
    assert User.count() == 0
    assert EmailClaim.count() == 0


def test_a_fault_after_the_write_leaves_a_whole_account(fault_on) -> None:
    # The answer is lost after DynamoDB committed: both items or neither, never one.
    fault_on("TransactWriteItems", when="after")

    response = Client().post("/accounts/signup/", SIGN_UP)

    assert response.status_code == 503
    assert User.count() == 1
    [claim] = EmailClaim.scan()
    assert User.get(claim.user_id).email == "dee@example.com"


def test_sign_up_works_again_once_dynamodb_answers(fault_on) -> None:
    stop_fault = fault_on("TransactWriteItems", when="before")
    assert Client().post("/accounts/signup/", SIGN_UP).status_code == 503
    stop_fault()

    response = Client().post("/accounts/signup/", SIGN_UP)

    assert response.status_code == 302
    assert User.count() == 1
    assert EmailClaim.count() == 1


def test_a_counter_meeting_the_outage_does_not_pass_for_a_signed_in_sign_up() -> None:
    # The dashboard's counters are best effort: the sign-up goes on when one fails. But
    # the request has met DynamoDB unavailable, so its session is not saved: answering
    # "welcome" would leave the person signed out on the next page
    # (tests/proof/test_load_and_faults.py found it under load).
    from datalayer.counters import Counter

    events = Counter._get_connection().connection.client.meta.events

    def counters_down(request, **_):
        if b"sessions#" in (request.body or b""):  # the sign-in count, the last write
            raise EndpointConnectionError(endpoint_url="http://dynamodb")

    events.register("before-send.dynamodb.UpdateItem", counters_down)
    try:
        client = Client()
        response = client.post("/accounts/signup/", SIGN_UP)
    finally:
        events.unregister("before-send.dynamodb.UpdateItem", counters_down)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    # The account is whole; signing in works.
    assert User.count() == 1
    assert EmailClaim.count() == 1
    assert (
        client.post("/accounts/login/", {"email": "dee@example.com", "password": PASSWORD})[
            "Location"
        ]
        == "/accounts/profile/"
    )
