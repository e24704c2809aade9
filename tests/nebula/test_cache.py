"""The shared DynamoDB cache: what rate limits across processes rely on."""

import threading
import time

import pytest
from django.core.cache import caches

from nebula.dynamo.cache import CacheEntry


@pytest.fixture
def cache():
    return caches["shared"]


def test_set_get_and_delete_round_trip_any_value(cache) -> None:
    cache.set("profile", {"name": "Ann", "tags": ["a", "b"]}, 60)

    assert cache.get("profile") == {"name": "Ann", "tags": ["a", "b"]}
    assert cache.delete("profile") is True
    assert cache.get("profile", "gone") == "gone"
    assert cache.delete("profile") is False


def test_add_only_writes_a_missing_key(cache) -> None:
    assert cache.add("k", 1, 60) is True
    assert cache.add("k", 2, 60) is False
    assert cache.get("k") == 1


def test_expired_items_are_ignored_on_read_and_replaced_by_add(cache) -> None:
    cache.set("short", "value", 1)
    # DynamoDB and moto never delete expired items on time: the item is still there.
    # (Whole seconds, rounded up: a 1 s entry is gone within 2 s.)
    time.sleep(2.05)
    assert CacheEntry.count(cache.make_key("short")) == 1

    assert cache.get("short") is None
    assert not cache.has_key("short")
    assert cache.add("short", "new", 60) is True
    assert cache.get("short") == "new"


def test_incr_adds_atomically_and_refuses_a_missing_key(cache) -> None:
    cache.add("hits", 0, 60)

    assert cache.incr("hits") == 1
    assert cache.incr("hits", 5) == 6
    with pytest.raises(ValueError, match="not found"):
        cache.incr("nothing-here")


def test_concurrent_increments_are_never_lost(cache) -> None:
    cache.add("counter", 0, 60)

    def hit() -> None:
        for _ in range(10):
            cache.incr("counter")

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get("counter") == 80


def test_touch_extends_a_live_key_only(cache) -> None:
    cache.set("session-ish", "v", 1)
    assert cache.touch("session-ish", 60) is True
    time.sleep(1.1)
    assert cache.get("session-ish") == "v"
    assert cache.touch("never-set", 60) is False


def test_an_entry_lives_at_least_its_timeout(cache) -> None:
    # DynamoDB keeps whole seconds: an expiry rounded down ended a 1 s entry early,
    # at once when it was set late in a second.
    for n in range(5):
        before = time.time()
        cache.set(f"brief-{n}", "v", 1)

        stored = CacheEntry.get(cache.make_and_validate_key(f"brief-{n}")).expires
        assert stored.timestamp() >= before + 1


def test_none_timeout_keeps_the_value(cache) -> None:
    cache.set("forever", "v", None)

    assert cache.get("forever") == "v"


def test_clear_removes_everything(cache) -> None:
    cache.set_many({"a": 1, "b": 2}, 60)

    cache.clear()

    assert cache.get_many(["a", "b"]) == {}
