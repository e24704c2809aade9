"""Signing in: session lifetimes, SECRET_KEY rotation, the same cost for unknown addresses."""

import json
import logging

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import Session
from accounts.session_keys import stored_id
from accounts.session_store import SessionStore
from nebula.logging import JSONFormatter
from tests.accounts.conftest import log_in
from tests.hashers import CountingArgon2PasswordHasher

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


@pytest.fixture
def cost_of(caplog, settings):
    """Return (DynamoDB calls, hashes computed) of one login attempt, from a new address."""
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingArgon2PasswordHasher"]
    caplog.set_level(logging.INFO, logger="nebula.access")
    addresses = iter(range(1, 255))

    def cost(email: str, password: str) -> tuple[int, int]:
        caplog.clear()
        CountingArgon2PasswordHasher.computed.clear()
        response = log_in(Client(REMOTE_ADDR=f"203.0.113.{next(addresses)}"), email, password)
        assert response.status_code == 200, response
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        calls = json.loads(JSONFormatter().format(record))["dynamodb_calls"]
        return calls, len(CountingArgon2PasswordHasher.computed)

    return cost


def test_a_login_for_an_unknown_address_reads_and_hashes_like_a_wrong_password(
    make_user, cost_of
) -> None:
    make_user(email="ann@example.com")

    known = cost_of("ann@example.com", "not the password")
    unknown = cost_of("nobody@example.com", "not the password")

    assert known == unknown
    assert unknown[1] == 1
