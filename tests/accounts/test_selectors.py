"""Reads of accounts data, as the pages that show them need them."""

import pytest
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


def test_the_session_list_describes_the_sessions_as_the_index_does(user) -> None:
    browsers = [
        Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"),
        Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"),
        Client(HTTP_USER_AGENT="Mozilla/5.0 (iPad; CPU OS 17_0) Safari/604.1"),
    ]
    for browser in browsers:
        log_in(browser)
    laptop_key = browsers[1].cookies["sessionid"].value

    listed = selectors.session_rows_from_entries(
        entries=selectors.session_entries_get(user_id=user.id), current_key=laptop_key
    )
    indexed = selectors.session_rows_for_user(user_id=user.id, current_key=laptop_key)

    assert [(r.public_id, r.device, r.ip, r.is_current) for r in listed] == [
        (r.public_id, r.device, r.ip, r.is_current) for r in indexed
    ]
    assert [r.device for r in listed] == ["Firefox on Linux", "Safari on iPad", "Safari on iPhone"]
    for mine, truth in zip(listed, indexed, strict=True):
        assert abs((mine.last_seen - truth.last_seen).total_seconds()) < 0.001
        assert abs((mine.created - truth.created).total_seconds()) < 0.001


def test_session_rows_without_a_current_key_mark_none(user) -> None:
    log_in(Client())

    [row] = selectors.session_rows_for_user(user_id=user.id)

    assert not row.is_current
    assert row.device == "Unknown device"


def test_find_a_user_by_id_or_address(user) -> None:
    assert selectors.user_find(identifier=user.id) == user
    assert selectors.user_find(identifier=" ANN@example.com ") == user
    assert selectors.user_find(identifier="0" * 32) is None
    assert selectors.user_find(identifier="not an address") is None


def test_listing_users_pages_with_an_opaque_cursor_until_the_end(make_user) -> None:
    made = {make_user(email=f"user{number}@example.com").id for number in range(5)}

    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.user_list(limit=2, cursor=cursor)
        seen += [user.id for user in page.users]
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(made)
    assert pages == 3


def test_listing_users_filters_in_dynamodb(make_user) -> None:
    make_user(email="ann@example.com")
    staff = make_user(email="staff@example.com", is_staff=True)

    page = selectors.user_list(limit=10, staff_only=True)

    assert [user.id for user in page.users] == [staff.id]
    assert page.cursor is None
    assert selectors.user_list(limit=10, inactive_only=True).users == []


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "bm90IGpzb24=", "eyJrZXkiOiB7IlMiOiAieCJ9fQ==", "eyJpZCI6IHsiUyI6ICJ4In19"],
    ids=["not-base64", "not-json", "other-key", "not-an-id"],
)
def test_a_cursor_not_made_by_user_list_is_refused(cursor) -> None:
    with pytest.raises(selectors.InvalidCursorError):
        selectors.user_list(limit=1, cursor=cursor)
