"""Signing in and staying signed in: session lifetimes and SECRET_KEY rotation."""

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import Session
from accounts.session_keys import stored_id
from accounts.session_store import SessionStore
from tests.accounts.conftest import log_in

NEW_SECRET = "the new secret key that every new signature is made with " * 2


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


@pytest.mark.parametrize("remember", [{}, {"remember": "on"}])
def test_rotating_the_secret_key_keeps_everyone_signed_in(client, user, settings, remember):
    log_in(client, **remember)
    old_secret, old_key = settings.SECRET_KEY, client.cookies["sessionid"].value

    with override_settings(SECRET_KEY=NEW_SECRET, SECRET_KEY_FALLBACKS=[old_secret]):
        assert client.get("/accounts/profile/").status_code == 200
        new_key = client.cookies["sessionid"].value

    # The session moved to a new key, stored under the new secret, keeping its lifetime.
    assert new_key != old_key
    assert Session.count(stored_id(old_key, secret=old_secret)) == 0
    assert Session.count(stored_id(new_key, secret=NEW_SECRET)) == 1
    assert (client.cookies["sessionid"]["max-age"] == "") == (not remember)
    # So it outlives the fallback.
    with override_settings(SECRET_KEY=NEW_SECRET, SECRET_KEY_FALLBACKS=[]):
        assert client.get("/accounts/profile/").status_code == 200


def test_a_secret_key_changed_without_fallback_signs_people_out(client, user) -> None:
    log_in(client)

    with override_settings(SECRET_KEY=NEW_SECRET):
        assert client.get("/accounts/profile/").status_code == 302
