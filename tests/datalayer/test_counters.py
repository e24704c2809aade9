"""The dashboard's counters: atomic adds, one read for many, and failures kept quiet."""

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from botocore.exceptions import EndpointConnectionError

from datalayer.calls import counting_calls
from datalayer.counters import (
    DAILY_TTL,
    Counter,
    counter_add,
    counter_add_daily,
    counter_add_hourly,
    counter_get_many,
    counter_move,
    daily_name,
    hourly_name,
    status_name,
)

NOW = datetime(2026, 11, 29, 9, 15, tzinfo=UTC)


@pytest.fixture
def updates_fail() -> Iterator[None]:
    """Make every counter UpdateItem fail at the botocore edge, as in an outage."""
    events = Counter._get_connection().connection.client.meta.events
    event = "before-send.dynamodb.UpdateItem"

    def refuse(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb")

    events.register(event, refuse)
    yield
    events.unregister(event, refuse)


def test_names_say_metric_and_day_hour_or_status() -> None:
    assert daily_name("signups", NOW.date()) == "signups#2026-11-29"
    assert hourly_name("sessions", NOW) == "sessions#2026-11-29T09"
    assert status_name("contact", "new") == "contact#new"


def test_concurrent_adds_are_never_lost() -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: counter_add("signups#2026-11-29"), range(20)))

    assert all(results)
    assert counter_get_many(["signups#2026-11-29"]) == {"signups#2026-11-29": 20}


def test_a_daily_counter_expires_after_the_window() -> None:
    counter_add_daily("signups", now=NOW)
    counter_add_daily("signups", 2, now=NOW)

    counter = Counter.get("signups#2026-11-29")
    assert counter.value == 3
    assert counter.expires == NOW + DAILY_TTL


def test_an_hourly_counter_counts_in_its_hour() -> None:
    counter_add_hourly("sessions", now=NOW)

    assert counter_get_many(["sessions#2026-11-29T09", "sessions#2026-11-29T10"]) == {
        "sessions#2026-11-29T09": 1,
        "sessions#2026-11-29T10": 0,
    }


def test_a_move_takes_from_one_status_and_gives_to_another() -> None:
    counter_add(status_name("contact", "new"), 2)

    counter_move("contact", source="new", target="handled")

    assert counter_get_many(["contact#new", "contact#handled"]) == {
        "contact#new": 1,
        "contact#handled": 1,
    }


def test_many_counters_are_one_batch_get_and_missing_ones_are_zero() -> None:
    counter_add("a#1", 5)
    names = [f"a#{i}" for i in range(1, 81)]

    with counting_calls() as calls:
        values = counter_get_many(names)

    assert calls.operations == ["BatchGetItem"]
    assert values["a#1"] == 5
    assert sum(values.values()) == 5
    assert len(values) == 80


def test_more_than_one_batch_of_names_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        counter_get_many([f"a#{i}" for i in range(101)])


@pytest.mark.usefixtures("updates_fail")
def test_a_failed_add_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="datalayer.counters"):
        assert counter_add("signups#2026-11-29") is False

    assert "signups#2026-11-29" in caplog.text
