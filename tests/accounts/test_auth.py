"""Signing in and staying signed in: session lifetimes."""

from django.test import Client
from django.utils import timezone

from accounts.models import Session
from accounts.session_keys import stored_id
from accounts.session_store import SessionStore
from tests.accounts.conftest import log_in


def _server_seconds_left(client: Client) -> float:
    item = Session.get(stored_id(client.cookies["sessionid"].value))
    return (item.expires - timezone.now()).total_seconds()


def test_without_keep_me_signed_in_the_cookie_ends_with_the_browser(client, user, settings):
    log_in(client)

    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    # The server forgets it sooner, and the session says so itself.
    assert abs(_server_seconds_left(client) - settings.NEBULA_BROWSER_SESSION_AGE) < 60
    session = SessionStore(cookie.value)
    assert session.get_expiry_age() == settings.NEBULA_BROWSER_SESSION_AGE
    assert session.get_expire_at_browser_close()


def test_keep_me_signed_in_lasts_session_cookie_age_on_both_sides(client, user, settings):
    log_in(client, remember="on")

    assert client.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    assert abs(_server_seconds_left(client) - settings.SESSION_COOKIE_AGE) < 60
    assert SessionStore(client.cookies["sessionid"].value).get_expiry_age() == (
        settings.SESSION_COOKIE_AGE
    )
