"""Following a reset link: the session the person was using stays as it was."""

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Session
from accounts.session_keys import stored_id
from accounts.views import RESET_SESSION_TOKEN
from nebula.logging import JSONFormatter
from tests.accounts.conftest import log_in


def _open_reset_form(client: Client) -> str:
    """Ask for a reset link, follow it, and return the password form's address."""
    client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = re.search(r"https?://testserver(/\S+)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    return form.redirect_chain[-1][0]


def _expires_in(client: Client) -> timedelta:
    return Session.get(stored_id(client.cookies["sessionid"].value)).expires - timezone.now()


@pytest.mark.parametrize("remember", [False, True])
def test_following_a_reset_link_while_signed_in_keeps_the_session_as_it_was(
    user, settings, remember
) -> None:
    client = Client()
    log_in(client, **({"remember": "on"} if remember else {}))
    cookie_age = client.cookies["sessionid"]["max-age"]
    lifetime = settings.SESSION_COOKIE_AGE if remember else settings.NEBULA_BROWSER_SESSION_AGE

    _open_reset_form(client)

    assert client.cookies["sessionid"]["max-age"] == cookie_age  # "" ends with the browser
    assert _expires_in(client) > timedelta(seconds=lifetime - 60)
    assert client.get("/accounts/profile/").status_code == 200


def test_a_session_made_for_a_reset_lives_only_as_long_as_the_link(user, settings) -> None:
    client = Client()

    _open_reset_form(client)

    assert _expires_in(client) <= timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def test_a_reset_token_kept_longer_than_a_link_lives_is_refused(user, settings) -> None:
    client = Client()
    log_in(client)
    form = _open_reset_form(client)
    session = client.session
    session[RESET_SESSION_TOKEN] = {
        **session[RESET_SESSION_TOKEN],
        "stored": session[RESET_SESSION_TOKEN]["stored"] - settings.PASSWORD_RESET_TIMEOUT - 1,
    }
    session.save()

    assert client.get(form).status_code == 400


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_reset_and_verification_tokens_never_reach_the_logs(client, user, caplog) -> None:
    caplog.set_level(logging.INFO)
    client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = _link(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]

    client.get(link, follow=True)
    client.get("/accounts/verify/not-a-real-token/")

    written = "\n".join(JSONFormatter().format(r) for r in caplog.records)
    assert token not in written
    assert "not-a-real-token" not in written
    assert "/accounts/password/reset/<str:uidb64>/<str:token>/" in written


def test_resetting_the_password_while_signed_in_as_that_user_works(signed_in, user) -> None:
    signed_in.post("/accounts/password/reset/", {"email": "ann@example.com"})
    form = signed_in.get(_link(mail.outbox[0]), follow=True)

    done = signed_in.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a whole new secret", "new_password2": "a whole new secret"},
    )

    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/done/"


def test_an_invalid_reset_link_costs_no_session(client, user) -> None:
    response = client.get("/accounts/password/reset/MTIz/abc-def/", follow=True)

    assert response.status_code == 400
    assert "sessionid" not in response.cookies
    assert Session.count() == 0
