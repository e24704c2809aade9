"""Passwords: Argon2id with OWASP's parameters, bounded concurrent hashing, old hashes upgraded."""

import threading

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher
from django.contrib.auth.hashers import check_password, get_hasher, make_password

from accounts import selectors
from accounts.hashers import hashing_slot
from accounts.models import User
from nebula.settings import base
from tests.accounts.conftest import PASSWORD, log_in


@pytest.fixture
def production_hashers(settings) -> None:
    """The hashers of every real environment (tests use a faster Argon2)."""
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


@pytest.mark.usefixtures("production_hashers")
def test_new_passwords_are_argon2id_with_owasps_parameters() -> None:
    encoded = make_password(PASSWORD)

    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.usefixtures("production_hashers")
@pytest.mark.parametrize(
    "old_hash",
    [
        pytest.param(
            lambda: get_hasher("pbkdf2_sha256").encode(PASSWORD, "pepper1234", iterations=1000),
            id="pbkdf2",
        ),
        pytest.param(
            lambda: DjangoArgon2PasswordHasher().encode(PASSWORD, "pepper1234567890"),
            id="django-default-argon2",
        ),
    ],
)
def test_an_old_hash_is_stored_again_with_todays_parameters_at_a_good_login(
    client, user, old_hash
) -> None:
    stored = old_hash()
    User._get_connection().update_item(user.id, actions=[User.password.set(stored)])

    assert log_in(client).status_code == 302

    upgraded = selectors.user_get(user_id=user.id).password
    assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert log_in(type(client)(), password=PASSWORD).status_code == 302


@pytest.mark.parametrize("operation", ["make", "check"])
def test_hashing_waits_for_a_free_slot(settings, operation) -> None:
    settings.NEBULA_PASSWORD_HASH_CONCURRENCY = 2
    encoded = make_password(PASSWORD)
    done = threading.Event()

    def hash_once() -> None:
        if operation == "make":
            make_password(PASSWORD)
        else:
            check_password(PASSWORD, encoded)
        done.set()

    with hashing_slot(), hashing_slot():  # two logins are hashing already
        worker = threading.Thread(target=hash_once)
        worker.start()
        waited = not done.wait(0.5)
    finished = done.wait(5)
    worker.join(5)

    assert waited, "a third hash ran while two were running"
    assert finished, "the hash never ran once a slot was free"
