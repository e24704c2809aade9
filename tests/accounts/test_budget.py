"""The request budget: anonymous pages 0 calls; signed-in pages 1 read, rare stamps."""

import json
import logging
from datetime import timedelta

import pytest
from botocore.validate import ParamValidationDecorator
from django.test import Client
from django.utils import timezone

from accounts import selectors
from accounts.models import Session
from accounts.session_keys import stored_id
from datalayer.models import connection, registered_models
from nebula.logging import JSONFormatter
from tests.accounts.conftest import log_in


@pytest.fixture
def calls_of(caplog):
    """Return the DynamoDB calls the access log recorded for one request."""
    caplog.set_level(logging.INFO, logger="nebula.access")

    def calls(client: Client, path: str) -> int:
        caplog.clear()
        response = client.get(path)
        assert response.status_code == 200, response
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        return json.loads(JSONFormatter().format(record))["dynamodb_calls"]

    return calls


def test_anonymous_pages_without_a_session_cookie_make_no_call(client, calls_of) -> None:
    assert calls_of(client, "/") == 0
    assert calls_of(client, "/accounts/login/") == 0
    assert calls_of(client, "/accounts/signup/") == 0


@pytest.mark.parametrize(
    "path", ["/", "/accounts/profile/", "/accounts/password/", "/accounts/sessions/"]
)
def test_a_signed_in_page_costs_one_read(signed_in, calls_of, path) -> None:
    assert calls_of(signed_in, path) == 1
    assert calls_of(signed_in, path) == 1


def test_the_request_path_clients_skip_botocore_parameter_validation(signed_in, calls_of) -> None:
    # PynamoDB builds every request; botocore's validation would walk the input
    # shape again on each call (PynamoDB's own Config turns it off: our clients,
    # made from one shared botocore session in datalayer.models, must keep that).
    assert calls_of(signed_in, "/accounts/profile/") == 1
    assert calls_of(signed_in, "/accounts/sessions/") == 1

    clients = [connection().client]
    clients += [model._get_connection().connection.client for model in registered_models()]
    # The setting shows only in the serializer botocore chose (meta.config keeps the default).
    validating = [c for c in clients if isinstance(c._serializer, ParamValidationDecorator)]
    assert validating == []


def test_last_seen_is_stamped_at_most_once_per_five_minutes(signed_in, calls_of) -> None:
    stored = stored_id(signed_in.cookies["sessionid"].value)
    assert calls_of(signed_in, "/") == 1

    stale = timezone.now() - timedelta(minutes=6)
    Session(stored).update(actions=[Session.last_seen.set(stale)])

    assert calls_of(signed_in, "/") == 2  # the read, and one stamp (with its list entry)
    stamped = Session.get(stored).last_seen
    assert stamped > stale
    [entry] = selectors.session_entries_get(user_id=Session.get(stored).user_id)
    assert abs((entry.last_seen - stamped).total_seconds()) < 0.001
    assert calls_of(signed_in, "/") == 1


@pytest.fixture
def read_keys():
    """Record the sessions-table keys each BatchGetItem asks for."""
    asked: list[list[str]] = []
    events = connection().client.meta.events

    def record(params, **_):
        for table, request in params["RequestItems"].items():
            if table == Session.Meta.table_name:
                asked.append([key["key"]["S"] for key in request["Keys"]])

    events.register("provide-client-params.dynamodb.BatchGetItem", record)
    yield asked
    events.unregister("provide-client-params.dynamodb.BatchGetItem", record)


def test_the_sessions_page_shows_every_session_from_its_one_read(
    signed_in, calls_of, read_keys
) -> None:
    other = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    assert log_in(other).status_code == 302
    read_keys.clear()

    assert calls_of(signed_in, "/accounts/sessions/") == 1
    page = signed_in.get("/accounts/sessions/").content.decode()

    assert "Firefox on Linux" in page
    assert "Safari on iPhone" in page
    assert any(key.startswith("list.") for key in read_keys[0])


def test_pages_that_do_not_show_the_list_do_not_read_it(signed_in, calls_of, read_keys) -> None:
    # The profile page reads the session and the user, nothing more.
    assert calls_of(signed_in, "/accounts/profile/") == 1
    assert calls_of(signed_in, "/") == 1

    assert read_keys
    assert all(not key.startswith("list.") for keys in read_keys for key in keys)
