"""The accounts' rate limits: per IP, per address, per user; login failures after OWASP."""

import json
import re
import threading

import pytest
from django.core import mail, signing
from django.test import Client

from accounts import devices
from accounts.devices import COOKIE_NAME
from nebula.dynamo.cache import CacheEntry
from nebula.http import client_ip
from tests.accounts.conftest import PASSWORD, log_in
from tests.hashers import CountingArgon2PasswordHasher

NEW_PASSWORD = "a whole new secret phrase"


@pytest.fixture
def rates(settings):
    def set_rate(name: str, rate: str) -> None:
        settings.NEBULA_RATES = {**settings.NEBULA_RATES, name: rate}

    return set_rate


def _from(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def _attacker_fails(times: int, email: str = "ann@example.com") -> list[int]:
    """Guess wrong ``times`` times, each from a new address."""
    return [
        log_in(_from(f"198.51.100.{n}"), email=email, password=f"guess {n}").status_code
        for n in range(times)
    ]


@pytest.fixture
def owner_device(user) -> Client:
    """Ann's own browser: it signed in once (and out again), so it holds a device cookie."""
    browser = _from("192.0.2.50")
    assert log_in(browser).status_code == 302
    browser.post("/accounts/logout/")
    assert COOKIE_NAME in browser.cookies
    return browser


# --- per IP, per address, per user ----------------------------------------


def test_login_is_limited_per_ip(rates, user) -> None:
    rates("login_ip", "3/5m")
    client = _from("203.0.113.5")

    statuses = [log_in(client, password="wrong").status_code for _ in range(3)]
    limited = log_in(client)

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "300"
    assert b"Too many attempts" in limited.content
    assert log_in(_from("203.0.113.6")).status_code == 302  # another address is fine


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

    statuses = [
        _from("203.0.113.7")
        .post(
            "/accounts/signup/",
            {"email": f"u{n}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        .status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2  # the refused one made no account and sent nothing


def test_password_reset_is_limited_per_account_with_its_own_window(rates, user) -> None:
    rates("password_reset_ip", "10/5m")
    rates("password_reset_account", "2/h")

    responses = [
        _from(f"192.0.2.{n}").post("/accounts/password/reset/", {"email": "ann@example.com"})
        for n in range(3)
    ]

    assert [r.status_code for r in responses] == [302, 302, 429]
    assert responses[2]["Retry-After"] == "3600"
    assert len(mail.outbox) == 2


def test_password_reset_behind_one_address_gets_the_ip_window(rates, user) -> None:
    rates("password_reset_ip", "2/5m")
    client = _from("192.0.2.77")

    responses = [
        client.post("/accounts/password/reset/", {"email": f"n{n}@example.com"}) for n in range(3)
    ]

    assert [r.status_code for r in responses] == [302, 302, 429]
    assert responses[2]["Retry-After"] == "300"


def test_verification_resend_is_limited_per_user(rates, signed_in) -> None:
    rates("verify_resend_user", "2/m")

    statuses = [signed_in.post("/accounts/verify/resend/").status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_limits_are_counted_in_dynamodb_not_in_the_process(rates, user) -> None:
    rates("login_ip", "1/5m")
    client = _from("203.0.113.8")
    assert log_in(client, password="wrong").status_code == 200
    assert log_in(client, password="wrong").status_code == 429

    # Every worker and container reads the same table: empty it, and the count is gone.
    with CacheEntry.batch_write() as batch:
        for entry in CacheEntry.scan():
            batch.delete(entry)

    assert log_in(client, password="wrong").status_code == 200


def test_client_ip_trusts_only_the_load_balancers_hop(rf, settings) -> None:
    settings.NEBULA_TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", REMOTE_ADDR="10.0.0.2")

    assert client_ip(request) == "203.0.113.9"

    settings.NEBULA_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"


# --- login failures: the account for untrusted clients, each device its own -


def test_only_failed_logins_count_against_the_account(rates, user) -> None:
    rates("login_account", "2/15m")

    good = [log_in(_from(f"198.51.100.{n}")).status_code for n in range(4)]
    unchecked = [log_in(_from("198.51.100.9"), password="").status_code for _ in range(3)]

    assert good == [302, 302, 302, 302]
    assert unchecked == [200, 200, 200]  # a form error, no password checked
    assert _attacker_fails(3) == [200, 200, 429]


def test_failures_from_many_addresses_lock_the_account_for_untrusted_clients(rates, user) -> None:
    rates("login_ip", "100/5m")
    rates("login_account", "3/15m")

    statuses = _attacker_fails(3, email=" ANN@example.com")
    locked = log_in(_from("198.51.100.99"))  # even the right password, from a new browser

    assert statuses == [200, 200, 200]
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"  # the account's window, not the 5-minute IP one
    assert _attacker_fails(1) == [429]  # no further guess is even checked
    assert log_in(_from("198.51.100.98"), email="cat@example.com").status_code == 200


def test_the_owner_signs_in_from_their_device_while_an_attacker_is_locked_out(
    rates, owner_device
) -> None:
    rates("login_account", "3/15m")

    assert _attacker_fails(4) == [200, 200, 200, 429]

    assert log_in(owner_device).status_code == 302


def test_a_trusted_device_spends_its_own_budget_not_the_accounts(rates, owner_device) -> None:
    rates("login_account", "3/15m")
    rates("login_device", "2/10m")

    statuses = [log_in(owner_device, password=f"typo {n}").status_code for n in range(3)]

    assert statuses == [200, 200, 429]
    assert log_in(owner_device)["Retry-After"] == "600"
    # Untrusted clients still have the account's whole budget.
    assert _attacker_fails(3) == [200, 200, 200]
    assert log_in(_from("203.0.113.30")).status_code == 429


def test_a_device_cookie_trusts_only_the_account_it_names(rates, owner_device, make_user) -> None:
    rates("login_account", "2/15m")
    make_user(email="cat@example.com")
    _attacker_fails(2, email="cat@example.com")

    assert log_in(owner_device, email="cat@example.com").status_code == 429


@pytest.mark.parametrize("forge", ["append", "reverse"])
def test_a_forged_device_cookie_is_no_trust(rates, owner_device, forge) -> None:
    rates("login_account", "2/15m")
    _attacker_fails(2)
    value = owner_device.cookies[COOKIE_NAME].value
    owner_device.cookies[COOKIE_NAME] = value + "x" if forge == "append" else value[::-1]

    assert log_in(owner_device).status_code == 429


def test_the_device_cookie_is_signed_httponly_lax_and_long_lived(user, settings) -> None:
    settings.SESSION_COOKIE_SECURE = True
    browser = Client()

    response = log_in(browser)

    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["secure"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.NEBULA_DEVICE_COOKIE_AGE
    # Names the account by a keyed digest, never by its address (the payload is only
    # base64: anyone holding the cookie could read an address in it).
    payload = signing.loads(cookie.value, salt=devices._SALT)
    assert payload["a"] == [devices.account_digest(user.email)]
    assert user.email not in json.dumps(payload)
    assert log_in(_from("203.0.113.31"), password="wrong").cookies.get(COOKIE_NAME) is None


def test_an_expired_device_cookie_is_no_trust(rates, owner_device, settings) -> None:
    rates("login_account", "2/15m")
    _attacker_fails(2)
    settings.NEBULA_DEVICE_COOKIE_AGE = -1

    assert log_in(owner_device).status_code == 429


def test_a_completed_password_reset_lifts_the_lockout(rates, user) -> None:
    rates("login_account", "2/15m")
    _attacker_fails(2)
    browser = _from("192.0.2.60")
    assert log_in(browser).status_code == 429

    browser.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = re.search(r"https?://testserver(/\S+)", mail.outbox[0].body).group(1)
    form = browser.get(link, follow=True)
    browser.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert log_in(_from("192.0.2.61"), password=NEW_PASSWORD).status_code == 302


def test_a_reset_from_a_locked_device_unlocks_that_device(rates, owner_device) -> None:
    rates("login_device", "2/10m")
    for n in range(2):
        log_in(owner_device, password=f"typo {n}")
    assert log_in(owner_device).status_code == 429

    owner_device.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = re.search(r"https?://testserver(/\S+)", mail.outbox[0].body).group(1)
    form = owner_device.get(link, follow=True)
    owner_device.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert log_in(owner_device, password=NEW_PASSWORD).status_code == 302


def test_simultaneous_guesses_never_exceed_the_accounts_budget(rates, user, settings) -> None:
    rates("login_account", "3/15m")
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingArgon2PasswordHasher"]
    CountingArgon2PasswordHasher.computed.clear()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def guess(n: int) -> None:
        client = _from(f"198.51.100.{100 + n}")
        barrier.wait()
        statuses.append(log_in(client, password=f"guess {n}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 3 + [429] * 5
    assert len(CountingArgon2PasswordHasher.computed) == 3  # only three passwords were checked


def test_email_changes_and_password_checks_are_rate_limited(signed_in, settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "email_change_user": "2/h"}
    statuses = [
        signed_in.post(
            "/accounts/profile/",
            {"action": "email", "new_email": f"n{n}@example.com", "password": PASSWORD},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2

    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "password_check_user": "2/h"}
    guesses = [signed_in.post("/accounts/delete/", {"password": f"guess {n}"}) for n in range(3)]
    assert [g.status_code for g in guesses] == [200, 200, 429]
    assert guesses[2]["Retry-After"] == "3600"
