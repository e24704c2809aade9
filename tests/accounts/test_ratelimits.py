"""Rate limits, shared by every process through the DynamoDB cache; a clear 429 page."""

import pytest
from django.core import mail
from django.test import Client

from nebula.http import client_ip
from tests.accounts.conftest import PASSWORD, log_in


@pytest.fixture
def rates(settings):
    def set_rate(name: str, rate: str) -> None:
        settings.NEBULA_RATES = {**settings.NEBULA_RATES, name: rate}

    return set_rate


def _from(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def test_login_is_limited_per_ip(rates, user) -> None:
    rates("login_ip", "3/m")
    client = _from("203.0.113.5")

    statuses = [log_in(client, password="wrong").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = log_in(client)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert b"Too many" in limited.content or b"too many" in limited.content
    assert log_in(_from("203.0.113.6")).status_code == 302  # another address is fine


def test_login_is_limited_per_account_across_addresses(rates, user) -> None:
    rates("login_account", "3/m")

    statuses = [
        log_in(_from(f"198.51.100.{n}"), email=" ANN@example.com", password="wrong").status_code
        for n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    assert log_in(_from("198.51.100.99"), email="cat@example.com").status_code == 200


def test_every_spelling_of_an_address_shares_its_per_account_limit(rates, user) -> None:
    rates("login_account", "3/m")
    spellings = [
        "ann@example.com",
        "ann@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth "example"
        "ann@EXAMPLE.\uff43\uff4f\uff4d",  # fullwidth "com"
        "ann@exa\u00admple.com",  # a soft hyphen inside
    ]

    statuses = [
        log_in(_from(f"198.51.100.{n}"), email=email, password="wrong").status_code
        for n, email in enumerate(spellings)
    ]

    assert statuses == [200, 200, 200, 429]


def test_sign_up_is_limited_per_ip(rates) -> None:
    rates("signup_ip", "2/m")
    client = _from("203.0.113.7")

    statuses = [
        client.post(
            "/accounts/signup/",
            {"email": f"u{n}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        ).status_code
        for n in range(3)
    ]

    assert statuses[2] == 429


def test_password_reset_is_limited_per_account(rates, user) -> None:
    rates("password_reset_account", "2/m")

    statuses = [
        _from(f"192.0.2.{n}").post("/accounts/password/reset/", {"email": "ann@example.com"})
        for n in range(3)
    ]

    assert [s.status_code for s in statuses] == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_verification_resend_is_limited_per_user(rates, signed_in) -> None:
    rates("verify_resend_user", "2/m")

    statuses = [signed_in.post("/accounts/verify/resend/").status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_limits_count_in_the_shared_cache(rates, user) -> None:
    from django.core.cache import caches

    from nebula.dynamo.cache import CacheEntry

    rates("login_ip", "5/m")
    log_in(_from("203.0.113.8"), password="wrong")

    assert CacheEntry.count() >= 1
    assert caches["shared"].__class__.__name__ == "DynamoDBCache"


def test_client_ip_trusts_only_the_load_balancers_hop(rf, settings) -> None:
    settings.NEBULA_TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", REMOTE_ADDR="10.0.0.2")

    assert client_ip(request) == "203.0.113.9"

    settings.NEBULA_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
