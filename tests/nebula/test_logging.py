"""No token in a link reaches a log line, whatever the answer to the request was."""

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from accounts import tokens
from accounts.models import User
from nebula.logging import RequestContextFilter, redacted_path


@pytest.fixture
def log_output(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Return what the site's own log handler writes (its filter and formatter included)."""
    # Production leaves Django's 4xx lines out; let them through to prove they are clean too.
    caplog.set_level(logging.DEBUG, logger="django.request")
    caplog.set_level(logging.INFO, logger="nebula.access")
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in h.filters)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.fixture
def links() -> dict[str, str]:
    """Return the secret parts of real mailed links (the user need not be stored)."""
    user = User(uuid.uuid4().hex, email="ann@example.com", password=make_password("x"))
    return {
        "verify": tokens.verification_token(user),
        "email": tokens.email_change_token(user, "ann.new@example.com"),
        "uid": tokens.encode_uid(user),
        "reset": tokens.password_reset_tokens.make_token(user),
    }


@pytest.mark.parametrize(
    "case",
    [
        ("/accounts/verify/{verify}", 301, "/accounts/verify/<str:token>/"),
        ("/accounts/email/confirm/{email}", 301, "/accounts/email/confirm/<str:token>/"),
        (
            "/accounts/password/reset/{uid}/{reset}",
            301,
            "/accounts/password/reset/<str:uidb64>/<str:token>/",
        ),
        ("/accounts/verify/{verify}/more/", 404, "/accounts/verify/…/more/"),
        ("/accounts/password/reset/{uid}/{reset}/x/", 404, "/accounts/password/reset/…/…/x/"),
        ("/{verify}/", 404, "/…/"),
        ("/accounts/{reset}", 404, "/accounts/…"),
    ],
)
def test_a_link_that_matched_no_view_is_logged_without_its_token(
    client: Client, links, log_output, case
) -> None:
    path, status, route = case

    response = client.get(path.format(**links))

    assert response.status_code == status
    written = log_output.getvalue()
    assert route in [json.loads(line).get("path") for line in written.splitlines()]
    for secret in links.values():
        assert secret not in written


def test_a_refused_post_to_a_link_is_logged_without_its_token(links, log_output) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(f"/accounts/verify/{links['verify']}/")

    assert response.status_code == 403
    written = log_output.getvalue()
    assert "Forbidden (CSRF cookie not set.): /accounts/verify/<str:token>/" in written
    assert links["verify"] not in written


def test_a_missing_page_is_still_logged_by_its_path(client: Client, log_output) -> None:
    client.get("/no-such-page/")

    assert "Not Found: /no-such-page/" in log_output.getvalue()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/", "/"),
        ("/wp-login.php", "/wp-login.php"),
        ("/a/b/c/", "/a/b/c/"),
        ("/accounts/" + "x" * 17 + "/", "/accounts/…/"),
        ("/accounts/Mg/cxyz-0123456789abcdef/", "/accounts/Mg/…/"),
        ("/a b/", "/…/"),
        ("/x\n/", "/…/"),
        ("/1/2/3/4/5/6/7/8/9/10/", "/1/2/3/4/5/6/7/8/…"),
    ],
)
def test_an_unmatched_path_keeps_only_short_plain_segments(path: str, logged: str) -> None:
    assert redacted_path(path) == logged
