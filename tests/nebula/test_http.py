"""The shared HTTP answers: the one 503 response every outage path gives."""

import json

import pytest
from django.test import RequestFactory

from nebula.http import unavailable_response

pytestmark = pytest.mark.no_dynamodb


def test_a_browser_gets_the_503_page_with_retry_after(settings) -> None:
    settings.NEBULA_RETRY_AFTER_SECONDS = 7
    request = RequestFactory().get("/accounts/profile/", headers={"Accept": "text/html"})

    response = unavailable_response(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response["Content-Type"].startswith("text/html")
    assert b"try again" in response.content.lower()


def test_a_client_that_asks_for_json_gets_json(settings) -> None:
    request = RequestFactory().get("/", headers={"Accept": "application/json"})

    response = unavailable_response(request)

    assert response.status_code == 503
    assert json.loads(response.content) == {"error": "service unavailable"}
    assert response["Retry-After"] == str(settings.NEBULA_RETRY_AFTER_SECONDS)


def test_a_health_check_gives_its_own_json_body(settings) -> None:
    response = unavailable_response(data={"status": "unavailable", "reasons": ["x"]})

    assert json.loads(response.content) == {"status": "unavailable", "reasons": ["x"]}
    assert response["Retry-After"] == str(settings.NEBULA_RETRY_AFTER_SECONDS)
