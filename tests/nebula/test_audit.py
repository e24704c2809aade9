"""The audit log: entries recorded, read back newest first by actor or entity, a page at a time."""

import re

import pytest
from django.test import Client

from accounts import services
from datalayer.cursors import InvalidCursorError, encode_cursor
from nebula.audit import AuditEntry, audit_entry, audit_list, audit_record
from tests.accounts.conftest import PASSWORD, log_in, log_in_staff

ANN = "a" * 32
BOB = "b" * 32


def _record(actor_id: str, entity_id: str, action: str = "user.change", **extra) -> AuditEntry:
    return audit_record(
        actor_id=actor_id,
        action=action,
        entity_type="user",
        entity_id=entity_id,
        before={"n": 0},
        after={"n": 1},
        **extra,
    )


def test_entries_come_back_newest_first_by_actor_and_by_entity() -> None:
    first = _record(ANN, "u1")
    second = _record(BOB, "u1")
    third = _record(ANN, "u2")

    assert [e.id for e in audit_list().entries] == [third.id, second.id, first.id]
    assert [e.id for e in audit_list(actor_id=ANN).entries] == [third.id, first.id]
    assert [e.id for e in audit_list(entity=("user", "u1")).entries] == [second.id, first.id]
    assert [e.id for e in audit_list(actor_id=BOB, entity=("user", "u1")).entries] == [second.id]
    assert audit_list(actor_id="nobody").entries == []


def test_an_entry_keeps_who_what_when_and_before_after() -> None:
    _record(ANN, "u1", actor_label="ann@example.com", entity_label="gus@example.com")

    [entry] = audit_list().entries

    assert (entry.actor_id, entry.actor_label, entry.action) == (
        ANN,
        "ann@example.com",
        "user.change",
    )
    assert (entry.entity_type, entry.entity_id, entry.entity_label) == (
        "user",
        "u1",
        "gus@example.com",
    )
    assert (entry.before, entry.after) == ({"n": 0}, {"n": 1})
    assert entry.changes() == [("n", 0, 1)]
    assert entry.at is not None


def test_the_log_pages_through_every_entry_once() -> None:
    made = [_record(ANN, f"u{n}").id for n in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        page = audit_list(actor_id=ANN, cursor=cursor, limit=3)
        seen += [e.id for e in page.entries]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        assert pages < 20, "the pages never end"

    assert pages >= 3
    assert seen == list(reversed(made))


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        encode_cursor({"id": "../etc"}, scope="audit:feed:all:"),
        encode_cursor({}, scope="audit:feed:all:"),
    ],
)
def test_a_cursor_the_site_did_not_make_is_refused(cursor) -> None:
    with pytest.raises(InvalidCursorError):
        audit_list(cursor=cursor)


def test_a_cursor_of_one_actor_does_not_page_another_list() -> None:
    for n in range(3):
        _record(ANN, f"u{n}")
    cursor = audit_list(actor_id=ANN, limit=1).next_cursor

    assert audit_list(actor_id=ANN, cursor=cursor, limit=1).entries
    with pytest.raises(InvalidCursorError):
        audit_list(cursor=cursor)
    with pytest.raises(InvalidCursorError):
        audit_list(actor_id=BOB, cursor=cursor)


@pytest.mark.parametrize(
    "fields",
    [
        {"actor_id": "has space"},
        {"entity_id": "x" * 129},
        {"entity_type": "User"},
        {"before": {"when": object()}},
    ],
)
def test_an_entry_with_bad_fields_is_refused_before_any_write(fields) -> None:
    values = {
        "actor_id": ANN,
        "action": "user.change",
        "entity_type": "user",
        "entity_id": "u1",
        "before": {},
        "after": {},
        **fields,
    }
    with pytest.raises((ValueError, TypeError)):
        audit_entry(**values)


# The admin page.


@pytest.fixture
def root() -> Client:
    services.user_create(
        email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    client = Client()
    log_in_staff(client, "root@example.com")
    return client


def test_the_audit_page_is_for_staff_only(client) -> None:
    services.user_create(email="ann@example.com", password=PASSWORD)
    assert client.get("/admin/audit/")["Location"].startswith("/admin/login/")
    log_in(client)

    assert client.get("/admin/audit/", follow=True).status_code == 403


def test_the_audit_page_filters_by_actor_and_by_entity(root) -> None:
    _record(ANN, "u1", action="user.deactivate", entity_label="gus@example.com")
    _record(BOB, "u2", action="user.delete", entity_label="hal@example.com")

    everything = root.get("/admin/audit/").content.decode()
    by_actor = root.get("/admin/audit/", {"actor": BOB}).content.decode()
    by_entity = root.get("/admin/audit/", {"entity_type": "user", "entity_id": "u1"}).content
    by_both = root.get("/admin/audit/", {"actor": BOB, "entity_type": "user", "entity_id": "u1"})

    assert "user.deactivate" in everything
    assert "user.delete" in everything
    assert everything.index("user.delete") < everything.index("user.deactivate")  # newest first
    assert "user.delete" in by_actor
    assert "user.deactivate" not in by_actor
    assert b"user.deactivate" in by_entity
    assert b"user.delete" not in by_entity
    assert b"No entries for this filter" in by_both.content
    assert "<code>n</code>: 0 → 1" in everything
    assert 'href="/admin/accounts/users/u1/">open</a>' in everything  # accounts' entity_urls


def test_the_audit_page_follows_next_until_the_end(root, monkeypatch) -> None:
    from nebula import audit_admin

    monkeypatch.setattr(audit_admin, "ENTRIES_PER_PAGE", 2)
    made = [_record(ANN, f"u{n}", entity_label=f"label{n}x").id for n in range(5)]

    url, labels = "/admin/audit/", []
    while url:
        html = root.get(url).content.decode()
        labels += re.findall(r"label(\d)x", html)
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found and "/admin/audit/" + found.group(1).replace("&amp;", "&")
        assert len(labels) < 20, "the pages never end"

    assert labels == [str(n) for n in reversed(range(len(made)))]


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "garbage"},
        {"actor": "<script>"},
        {"entity_type": "user"},
        {"entity_type": "User", "entity_id": "x"},
    ],
)
def test_a_bad_filter_or_cursor_is_a_400_page(root, query) -> None:
    response = root.get("/admin/audit/", query)

    assert response.status_code == 400
    assert b"errornote" in response.content


def test_the_index_shows_my_recent_actions_from_the_log(root) -> None:
    from accounts import selectors

    me = selectors.user_get_by_email(email="root@example.com")
    _record(me.id, "u1", action="user.reactivate", entity_label="gus@example.com")
    _record(ANN, "u2", action="user.delete", entity_label="hal@example.com")

    index = root.get("/admin/").content.decode()

    assert "Recent actions" in index
    assert "gus@example.com" in index
    assert "hal@example.com" not in index  # someone else's


@pytest.mark.no_dynamodb
def test_the_site_signs_page_cursors_with_a_key_derived_from_secret_key(settings) -> None:
    from django.utils.crypto import salted_hmac

    from datalayer import cursors

    expected = salted_hmac("nebula.cursors", "", secret=settings.SECRET_KEY, algorithm="sha256")
    assert cursors._keys[0] == expected.digest()
    assert b"" not in cursors._keys
