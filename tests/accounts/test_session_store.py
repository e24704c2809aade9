"""The DynamoDB session engine keeps Django's SessionBase contract."""

import json
import logging
from datetime import timedelta

import boto3
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.test import override_settings
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts import selectors, services
from accounts.models import Session, session_list_key
from accounts.session_keys import public_id, stored_id
from accounts.session_store import SessionStore, user_id_from_key
from datalayer.calls import counting_calls

OLD_SECRET = "an old secret key, rotated out but kept as a fallback " * 2
NEW_SECRET = "the new secret key that every new signature is made with " * 2


def test_save_creates_a_session_that_loads_back() -> None:
    store = SessionStore()
    store["colour"] = "blue"
    store.save()

    loaded = SessionStore(store.session_key)
    assert loaded["colour"] == "blue"
    assert loaded.exists(store.session_key)


def test_a_malformed_key_is_no_session_and_costs_no_call() -> None:
    store = SessionStore("no-such-session-key-here")

    with counting_calls() as calls:
        assert store.load() == {}
        assert not store.exists("no-such-session-key-here")

    assert store.session_key is None
    assert calls.total == 0


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_well_formed_unknown_key_loads_empty_and_saves_under_a_new_key(signed_in, user) -> None:
    unknown = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    if signed_in:
        unknown = f"{user.id}.{unknown}"
    store = SessionStore(unknown)

    assert store.load() == {}
    assert store.session_key is None
    store["x"] = 1
    store.save()

    assert store.session_key not in (None, unknown)
    assert SessionStore(store.session_key)["x"] == 1
    assert Session.count(stored_id(unknown)) == 0


def test_expired_session_is_gone_even_while_dynamodb_still_holds_it() -> None:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.save()
    Session(stored_id(store.session_key)).update(
        actions=[Session.expires.set(timezone.now() - timedelta(seconds=1))]
    )

    assert Session.count(stored_id(store.session_key)) == 1
    assert SessionStore(store.session_key).load() == {}
    assert not store.exists(store.session_key)


def test_save_must_create_refuses_an_existing_key() -> None:
    from django.contrib.sessions.backends.base import CreateError

    store = SessionStore()
    store.save()
    clash = SessionStore(store.session_key)
    clash._session_cache = {}
    with pytest.raises(CreateError):
        clash.save(must_create=True)


def test_saving_a_session_deleted_meanwhile_does_not_bring_it_back() -> None:
    store = SessionStore()
    store["x"] = 1
    store.save()
    other = SessionStore(store.session_key)
    assert other["x"] == 1  # another request has it loaded
    store.delete()

    other["x"] = 2
    with pytest.raises(UpdateError):
        other.save()
    assert Session.count(stored_id(store.session_key)) == 0


def test_cycle_key_keeps_data_under_a_new_key_and_deletes_the_old() -> None:
    store = SessionStore()
    store["x"] = 1
    store.save()
    old_key = store.session_key

    store.cycle_key()

    assert store.session_key != old_key
    assert SessionStore(store.session_key)["x"] == 1
    assert Session.count(stored_id(old_key)) == 0


def test_a_signed_in_key_starts_with_the_user_id_and_loads_in_one_call(user) -> None:
    store = SessionStore()
    store[SESSION_KEY] = user.id
    store.cycle_key()
    assert user_id_from_key(store.session_key) == user.id

    fresh = SessionStore(store.session_key)
    with counting_calls() as calls:
        fresh.load()
    assert calls.total == 1
    assert calls.operations == ["BatchGetItem"]
    assert fresh.prefetched_user == user


def test_flush_deletes_the_session() -> None:
    store = SessionStore()
    store["x"] = 1
    store.save()
    key = store.session_key

    store.flush()

    assert store.session_key is None
    assert Session.count(stored_id(key)) == 0


def test_clear_expired_deletes_only_expired_sessions() -> None:
    live, dead = SessionStore(), SessionStore()
    live.save()
    dead.save()
    Session(stored_id(dead.session_key)).update(
        actions=[Session.expires.set(timezone.now() - timedelta(seconds=1))]
    )

    SessionStore.clear_expired()

    assert Session.count(stored_id(live.session_key)) == 1
    assert Session.count(stored_id(dead.session_key)) == 0


def _seconds_left(key: str) -> float:
    return (Session.get(stored_id(key)).expires - timezone.now()).total_seconds()


def test_without_a_custom_expiry_a_session_lasts_session_cookie_age(settings) -> None:
    store = SessionStore()
    assert store.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert not store.get_expire_at_browser_close()

    # Django's set_expiry(0): the cookie ends with the browser, the server keeps the default age.
    store.set_expiry(0)
    store.save()

    assert store.get_expire_at_browser_close()
    assert store.get_session_cookie_age() == settings.SESSION_COOKIE_AGE
    assert store.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert abs(_seconds_left(store.session_key) - settings.SESSION_COOKIE_AGE) < 60


def test_a_browser_session_is_forgotten_sooner_by_the_server(settings) -> None:
    store = SessionStore()
    store.expire_with_browser(server_age=settings.NEBULA_BROWSER_SESSION_AGE)
    store.save()

    loaded = SessionStore(store.session_key)
    assert loaded.get_expire_at_browser_close()
    assert loaded.get_expiry_age() == settings.NEBULA_BROWSER_SESSION_AGE
    assert abs(_seconds_left(store.session_key) - settings.NEBULA_BROWSER_SESSION_AGE) < 60

    # Any later set_expiry() is Django's again: here, the default policy.
    loaded.set_expiry(None)
    assert not loaded.get_expire_at_browser_close()
    assert loaded.get_expiry_age() == settings.SESSION_COOKIE_AGE


# --- what the table holds ---------------------------------------------------


def _raw_items(endpoint: str, user_id: str) -> list[dict]:
    """Read the sessions table and its by-user index as any holder of table access could."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=django_settings.AWS_REGION)
    table = Session.Meta.table_name
    items = client.scan(TableName=table)["Items"]
    items += client.query(
        TableName=table,
        IndexName="by-user",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
    )["Items"]
    return items


def test_the_table_and_its_index_never_hold_a_session_key(signed_in, user, dynamodb) -> None:
    anonymous = SessionStore()
    anonymous["x"] = 1
    anonymous.save()
    keys = [signed_in.cookies["sessionid"].value, anonymous.session_key]

    items = _raw_items(dynamodb, user.id)
    dumped = json.dumps(items)

    # Two sessions, the user's session list (it names sessions by their stored ids,
    # as the table's keys do), and the signed-in session again in the index.
    assert len(items) == 4
    for key in keys:
        random_part = key.rsplit(".", 1)[-1]
        assert random_part not in dumped
        assert public_id(stored_id(key)) not in dumped


def test_the_sessions_page_names_sessions_without_giving_away_their_keys(signed_in) -> None:
    key = signed_in.cookies["sessionid"].value
    other = SessionStore()
    other[SESSION_KEY] = signed_in.session[SESSION_KEY]
    other.cycle_key()

    page = signed_in.get("/accounts/sessions/").content.decode()

    assert public_id(stored_id(other.session_key)) in page
    for secret in (key, other.session_key):
        assert secret.rsplit(".", 1)[-1] not in page
        assert stored_id(secret) not in page


# --- SECRET_KEY rotation ----------------------------------------------------


@override_settings(SECRET_KEY=OLD_SECRET)
def _old_session(**data: object) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()
    return store


@override_settings(SECRET_KEY=NEW_SECRET, SECRET_KEY_FALLBACKS=[OLD_SECRET])
def test_a_session_stored_under_a_rotated_secret_loads_in_the_same_one_read(user) -> None:
    old = _old_session(**{SESSION_KEY: user.id})
    assert user_id_from_key(old.session_key) == user.id
    with override_settings(SECRET_KEY=OLD_SECRET):
        assert Session.count(stored_id(old.session_key)) == 1

    loaded = SessionStore(old.session_key)
    with counting_calls() as calls:
        assert loaded[SESSION_KEY] == user.id
    assert calls.operations == ["BatchGetItem"]
    assert loaded.exists(old.session_key)

    # Saved and ended where it is stored, not under a second item.
    loaded["x"] = 1
    loaded.save()
    assert SessionStore(old.session_key)["x"] == 1
    loaded.flush()
    assert not SessionStore().exists(old.session_key)
    # Only the user's session list is left, without an entry.
    assert [s.id for s in Session.scan()] == [session_list_key(user.id)]
    assert selectors.session_entries_get(user_id=user.id) == []


def test_without_the_old_secret_as_fallback_a_session_is_gone() -> None:
    old = _old_session(x=1)

    with override_settings(SECRET_KEY=NEW_SECRET):
        assert SessionStore(old.session_key).load() == {}


@override_settings(SECRET_KEY=NEW_SECRET, SECRET_KEY_FALLBACKS=[OLD_SECRET])
def test_ending_the_other_sessions_keeps_one_stored_under_a_rotated_secret(user) -> None:
    mine, theirs = _old_session(**{SESSION_KEY: user.id}), SessionStore()
    theirs[SESSION_KEY] = user.id
    theirs.cycle_key()

    ended = services.session_end_all(user_id=user.id, except_keys={mine.session_key})

    assert ended == 1
    assert SessionStore(mine.session_key).get(SESSION_KEY) == user.id
    assert not SessionStore().exists(theirs.session_key)


def test_a_real_key_with_a_trailing_newline_is_no_session(signed_in, user) -> None:
    key = signed_in.cookies["sessionid"].value

    with counting_calls() as calls:
        store = SessionStore(key + "\n")
        data = store.load()

    assert user_id_from_key(key) == user.id
    assert user_id_from_key(key + "\n") is None
    assert data == {}
    assert store.session_key is None
    assert calls.total == 0


@pytest.mark.parametrize("cookie", ["x" * 5000, "short", "A" * 32, "../../etc/passwd" * 3])
def test_a_junk_session_cookie_is_no_session_and_costs_nothing(client, cookie, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nebula.access")
    client.cookies["sessionid"] = cookie

    response = client.get("/")

    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "nebula.access"]
    assert record.dynamodb_calls == 0
