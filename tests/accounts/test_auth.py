"""Signing in: an unknown address costs what a known one does."""

import json
import logging

import pytest
from django.test import Client

from nebula.logging import JSONFormatter
from tests.accounts.conftest import log_in
from tests.hashers import CountingArgon2PasswordHasher


@pytest.fixture
def cost_of(caplog, settings):
    """Return (DynamoDB calls, hashes computed) of one login attempt, from a new address."""
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingArgon2PasswordHasher"]
    caplog.set_level(logging.INFO, logger="nebula.access")
    addresses = iter(range(1, 255))

    def cost(email: str, password: str) -> tuple[int, int]:
        caplog.clear()
        CountingArgon2PasswordHasher.computed.clear()
        response = log_in(Client(REMOTE_ADDR=f"203.0.113.{next(addresses)}"), email, password)
        assert response.status_code == 200, response
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        calls = json.loads(JSONFormatter().format(record))["dynamodb_calls"]
        return calls, len(CountingArgon2PasswordHasher.computed)

    return cost


def test_a_login_for_an_unknown_address_reads_and_hashes_like_a_wrong_password(
    make_user, cost_of
) -> None:
    make_user(email="ann@example.com")

    known = cost_of("ann@example.com", "not the password")
    unknown = cost_of("nobody@example.com", "not the password")

    assert known == unknown
    assert unknown[1] == 1
