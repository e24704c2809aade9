"""Account services: multi-step flows are one call that leaves the tables consistent."""

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from accounts import selectors, services
from accounts.models import User
from tests.accounts.conftest import PASSWORD, log_in

NEW_PASSWORD = "a brand new passphrase 42"


def _session_key(client: Client) -> str:
    return client.cookies["sessionid"].value


def test_changing_the_password_ends_every_other_session_and_says_how_many(user) -> None:
    here, phone, laptop = Client(), Client(), Client()
    for client in (here, phone, laptop):
        log_in(client)

    ended = services.user_change_password(
        user=user, password=NEW_PASSWORD, keep_session_keys={_session_key(here)}
    )

    assert ended == 2
    remaining = selectors.session_list_for_user(user_id=user.id)
    assert [s.key for s in remaining] == [_session_key(here)]
    stored = User.get(user.id)
    assert check_password(NEW_PASSWORD, stored.password)
    assert not check_password(PASSWORD, stored.password)
    assert phone.get("/accounts/profile/").status_code == 302


def test_the_page_tells_how_many_other_sessions_were_signed_out(signed_in) -> None:
    log_in(Client())

    response = signed_in.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert b"Your password is changed. 1 other session signed out." in response.content
    assert signed_in.get("/accounts/profile/").status_code == 200


def test_changing_the_password_of_a_deleted_user_brings_nothing_back(user) -> None:
    other = Client()
    log_in(other)
    services.user_delete(user=user)

    with pytest.raises(services.UserGoneError):
        services.user_change_password(user=user, password=NEW_PASSWORD)

    assert User.count() == 0
