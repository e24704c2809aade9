"""Rate limits any app can use: windows, stacked limits, failure budgets, the 429's Retry-After."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from nebula.ratelimit import Budget, RateLimited, allowed_count, limit, period_seconds


@limit("test_outer")
@limit("test_inner", key=lambda group, request: request.POST.get("name", ""))
def _stacked(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


urlpatterns = [path("stacked/", _stacked), path("", include("nebula.urls"))]


@pytest.fixture
def rates(settings):
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "test_outer": "3/5m", "test_inner": "1/h"}
    return settings.NEBULA_RATES


@pytest.mark.no_dynamodb
@pytest.mark.parametrize(
    ("rate", "seconds"),
    [("10/15m", 900), ("5/h", 3600), ("3/m", 60), ("1/s", 1), ("2/7d", 604800), ("30/5m", 300)],
)
def test_a_rate_window_is_its_period_in_seconds(rate: str, seconds: int) -> None:
    assert period_seconds(rate) == seconds


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("rate", ["10", "10/", "10/15x", "ten/m", "10/m ", "10/m\n", "/m", ""])
def test_anything_but_a_rate_is_refused(rate: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        period_seconds(rate)


@pytest.mark.no_dynamodb
def test_a_rate_allows_its_count_per_window() -> None:
    assert [allowed_count(r) for r in ("10/15m", "1/h", "250/d")] == [10, 1, 250]


@pytest.mark.urls(__name__)
def test_the_429_names_the_window_of_the_limit_that_was_hit(rates) -> None:
    client = Client(REMOTE_ADDR="203.0.113.20")

    first = client.post("/stacked/", {"name": "a"})
    inner_hit = client.post("/stacked/", {"name": "a"})
    other_name = client.post("/stacked/", {"name": "b"})
    outer_hit = client.post("/stacked/", {"name": "c"})

    assert [first.status_code, inner_hit.status_code, other_name.status_code] == [200, 429, 200]
    assert inner_hit["Retry-After"] == "3600"  # the inner 1/h limit, not the outer 5 minutes
    assert outer_hit.status_code == 429
    assert outer_hit["Retry-After"] == "300"
    assert client.get("/stacked/").status_code == 200  # only POSTs count


def test_a_budget_allows_its_failures_then_refuses_until_cleared(settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "test_budget": "2/10m"}
    budget = Budget("test_budget", "ann@example.com")
    other = Budget("test_budget", "bob@example.com")

    spent = []
    for _ in range(2):
        spent.append(budget.spent())
        budget.take()
    spent.append(budget.spent())

    assert spent == [False, False, True]
    assert not other.spent()
    with pytest.raises(RateLimited) as refused:
        budget.take()
    assert refused.value.retry_after == 600
    budget.clear()
    assert not budget.spent()
    budget.take()


def test_an_attempt_that_did_not_fail_gives_its_unit_back(settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "test_budget": "1/10m"}
    budget = Budget("test_budget", "ann@example.com")

    for _ in range(3):
        budget.take()
        budget.give_back()
    budget.take()

    with pytest.raises(RateLimited):
        budget.take()


def test_a_budget_count_lives_in_the_shared_cache_never_the_key_in_clear(settings) -> None:
    from nebula.dynamo.cache import CacheEntry

    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "test_budget": "1/m"}
    Budget("test_budget", "ann@example.com").take()

    # A fresh object, as another worker or container would make, sees the same count.
    assert Budget("test_budget", "ann@example.com").spent()
    [entry] = CacheEntry.scan()
    assert "ann@example.com" not in entry.key
