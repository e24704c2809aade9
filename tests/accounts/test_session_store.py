"""The DynamoDB session engine keeps Django's SessionBase contract."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.utils import timezone

from accounts.models import Session
from accounts.session_store import SessionStore, user_id_from_key
from nebula.dynamo.calls import counting_calls


def test_save_creates_a_session_that_loads_back() -> None:
    store = SessionStore()
    store["colour"] = "blue"
    store.save()

    loaded = SessionStore(store.session_key)
    assert loaded["colour"] == "blue"
    assert loaded.exists(store.session_key)


def test_unknown_or_malformed_key_loads_empty_and_gets_a_new_key_on_save() -> None:
    store = SessionStore("no-such-session-key-here")
    assert store.load() == {}
    assert store.session_key is None
    store["x"] = 1
    store.save()
    assert store.session_key != "no-such-session-key-here"


def test_expired_session_is_gone_even_while_dynamodb_still_holds_it() -> None:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.save()
    Session(store.session_key).update(
        actions=[Session.expires.set(timezone.now() - timedelta(seconds=1))]
    )

    assert Session.count(store.session_key) == 1
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
    assert Session.count(store.session_key) == 0


def test_cycle_key_keeps_data_under_a_new_key_and_deletes_the_old() -> None:
    store = SessionStore()
    store["x"] = 1
    store.save()
    old_key = store.session_key

    store.cycle_key()

    assert store.session_key != old_key
    assert SessionStore(store.session_key)["x"] == 1
    assert Session.count(old_key) == 0


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
    assert Session.count(key) == 0


def test_clear_expired_deletes_only_expired_sessions() -> None:
    live, dead = SessionStore(), SessionStore()
    live.save()
    dead.save()
    Session(dead.session_key).update(
        actions=[Session.expires.set(timezone.now() - timedelta(seconds=1))]
    )

    SessionStore.clear_expired()

    assert Session.count(live.session_key) == 1
    assert Session.count(dead.session_key) == 0


def test_browser_sessions_are_forgotten_sooner_by_the_server(settings) -> None:
    store = SessionStore()
    store.set_expiry(0)
    store.save()

    item = Session.get(store.session_key)
    age = (item.expires - timezone.now()).total_seconds()
    assert abs(age - settings.NEBULA_BROWSER_SESSION_AGE) < 60
    assert store.get_expire_at_browser_close()


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
