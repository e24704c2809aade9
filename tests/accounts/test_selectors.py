"""Reads of accounts data, as the pages that show them need them."""

from django.test import Client

from accounts import selectors
from accounts.session_keys import public_id, stored_id
from tests.accounts.conftest import log_in


def test_session_rows_put_this_device_first_then_the_most_recently_seen(user) -> None:
    browsers = {
        "phone": Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"),
        "laptop": Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"),
        "tablet": Client(HTTP_USER_AGENT="Mozilla/5.0 (iPad; CPU OS 17_0) Safari/604.1"),
    }
    for browser in browsers.values():
        log_in(browser)
    laptop_key = browsers["laptop"].cookies["sessionid"].value

    rows = selectors.session_rows_for_user(user_id=user.id, current_key=laptop_key)

    assert [(row.device, row.is_current) for row in rows] == [
        ("Firefox on Linux", True),
        ("Safari on iPad", False),
        ("Safari on iPhone", False),
    ]
    assert rows[0].public_id == public_id(stored_id(laptop_key))
    assert {row.ip for row in rows} == {"127.0.0.1"}
    assert all(row.created <= row.last_seen for row in rows)


def test_session_rows_without_a_current_key_mark_none(user) -> None:
    log_in(Client())

    [row] = selectors.session_rows_for_user(user_id=user.id)

    assert not row.is_current
    assert row.device == "Unknown device"
