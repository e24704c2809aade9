"""The admin's second factor: setting it up, passing it, its limits and its reset."""

import copy
import json
import logging
import re
import urllib.parse

import pyotp
import pytest
from django.test import Client

from accounts import otp, selectors
from accounts.models import SecondFactor
from nebula.audit import audit_list
from nebula.logging import JSONFormatter
from tests.accounts.conftest import (
    PASSWORD,
    log_in,
    log_in_staff,
    otp_secret_on_page,
    recovery_codes_on_page,
    start_second_factor_setup,
)
from tests.support import dynamodb_client

SETUP = "/accounts/2fa/setup/"
VERIFY = "/accounts/2fa/verify/"


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", is_staff=True)


@pytest.fixture
def step(monkeypatch) -> dict[str, int]:
    """Hold the server's TOTP clock at ``step["now"]`` (a time step), so codes are exact."""
    clock = {"now": otp.current_step()}
    monkeypatch.setattr(otp, "current_step", lambda now=None: clock["now"])
    return clock


def _signed_in(email: str = "staff@example.com") -> Client:
    client = Client()
    assert log_in(client, email=email).status_code == 302
    return client


def _set_up(client: Client, *, code_step: int | None = None) -> tuple[str, list[str]]:
    """Set the second factor up on ``client``; return the secret and the recovery codes."""
    secret = otp_secret_on_page(start_second_factor_setup(client))
    totp = pyotp.TOTP(secret)
    code = totp.now() if code_step is None else totp.generate_otp(code_step)
    done = client.post(SETUP, {"code": code})
    assert done.status_code == 200, done.content
    return secret, recovery_codes_on_page(done.content)


def _svg_of(content: bytes) -> str:
    uri = re.search(rb'<img class="qr" src="([^"]+)"', content).group(1).decode()
    assert uri.startswith("data:image/svg+xml")
    return urllib.parse.unquote(uri.split(",", 1)[1])


def test_staff_set_up_the_second_factor_from_the_qr_code_then_see_recovery_codes_once(
    staff,
) -> None:
    client = _signed_in()

    landed = client.get("/admin/", follow=True)

    assert landed.redirect_chain[-1][0] == f"{SETUP}?next=/admin/"
    assert b"Start set-up" in landed.content
    assert b"otp-key" not in landed.content
    started = client.post(SETUP, {"start": "1", "next": "/admin/"})
    assert started.status_code == 302
    assert started["Location"] == f"{SETUP}?next=/admin/"
    page = client.get(started["Location"]).content
    assert "<svg" in _svg_of(page)
    assert b"<script" not in page
    assert b"<script" not in _svg_of(page).encode()
    secret = otp_secret_on_page(page)
    assert client.get("/admin/").status_code == 302  # not before it is confirmed

    done = client.post(SETUP, {"code": pyotp.TOTP(secret).now(), "next": "/admin/"})

    assert done.status_code == 200
    codes = recovery_codes_on_page(done.content)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert b'href="/admin/"' in done.content
    assert client.get("/admin/").status_code == 200
    # Shown once: the setup page now leads to the verify page, which shows none.
    again = client.get(SETUP, follow=True)
    assert again.redirect_chain[-1][0] == "/admin/"
    assert not recovery_codes_on_page(again.content)


@pytest.fixture
def calls_of(caplog):
    """Return the DynamoDB calls the access log recorded for one GET (as test_budget does)."""
    caplog.set_level(logging.INFO, logger="nebula.access")

    def calls(client: Client, path: str) -> int:
        caplog.clear()
        response = client.get(path)
        assert response.status_code == 200, response
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        return json.loads(JSONFormatter().format(record))["dynamodb_calls"]

    return calls


def test_showing_the_setup_page_writes_nothing(staff, calls_of) -> None:
    client = _signed_in()

    # The session and its user (one read), the factor (one read): no write, twice.
    assert calls_of(client, SETUP) == 2
    assert calls_of(client, SETUP) == 2
    assert selectors.second_factor_get(user_id=staff.id) is None

    secret = otp_secret_on_page(start_second_factor_setup(client))

    # Started: reloading reads the pending factor and shows the same key, still no write.
    assert calls_of(client, SETUP) == 2
    assert otp_secret_on_page(client.get(SETUP).content) == secret
    assert not selectors.second_factor_get(user_id=staff.id).confirmed


def test_starting_needs_a_post_with_a_csrf_token(staff) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    log_in(client, email="staff@example.com", csrfmiddlewaretoken=client.cookies["csrftoken"].value)

    refused = client.post(SETUP, {"start": "1"})

    assert refused.status_code == 403
    assert selectors.second_factor_get(user_id=staff.id) is None


def test_a_wrong_code_at_setup_is_a_form_error_and_turns_nothing_on(staff) -> None:
    client = _signed_in()
    secret = otp_secret_on_page(start_second_factor_setup(client))
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"

    response = client.post(SETUP, {"code": wrong})

    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert not selectors.second_factor_get(user_id=staff.id).confirmed
    assert client.get("/admin/").status_code == 302
    # The same secret is offered again: the app set up a moment ago still works.
    assert otp_secret_on_page(response.content) == secret


def test_a_wrong_code_at_sign_in_is_a_form_error(staff) -> None:
    secret, _codes = _set_up(_signed_in())
    client = _signed_in()
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong, "next": "/admin/"})

    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert client.get("/admin/").status_code == 302


def test_a_recovery_code_works_once(staff) -> None:
    _secret, codes = _set_up(_signed_in())
    first, second = _signed_in(), _signed_in()

    passed = first.post(VERIFY, {"code": codes[0].upper().replace("-", " "), "next": "/admin/"})
    refused = second.post(VERIFY, {"code": codes[0], "next": "/admin/"})

    assert passed.status_code == 302
    assert passed["Location"] == "/admin/"
    assert first.get("/admin/").status_code == 200
    assert refused.status_code == 400
    assert b"used already" in refused.content
    assert second.get("/admin/").status_code == 302
    assert selectors.second_factor_get(user_id=staff.id).recovery_codes_left == 9


def test_the_same_totp_code_is_refused_the_second_time(staff, step) -> None:
    secret, _codes = _set_up(_signed_in(), code_step=step["now"])
    step["now"] += 1
    code = pyotp.TOTP(secret).generate_otp(step["now"])
    first, second = _signed_in(), _signed_in()

    assert first.post(VERIFY, {"code": code}).status_code == 302
    replayed = second.post(VERIFY, {"code": code})
    older = second.post(VERIFY, {"code": pyotp.TOTP(secret).generate_otp(step["now"] - 1)})

    assert replayed.status_code == 400
    assert older.status_code == 400  # inside the drift window, but before the step used
    assert second.get("/admin/").status_code == 302


def test_two_sign_ins_racing_with_one_code_pass_once(staff, step, monkeypatch) -> None:
    from accounts import services

    secret, codes = _set_up(_signed_in(), code_step=step["now"])
    step["now"] += 1
    code = pyotp.TOTP(secret).generate_otp(step["now"])
    # Both requests read the factor before either wrote: the writes' conditions decide.
    before = selectors.second_factor_get(user_id=staff.id)
    monkeypatch.setattr(services, "second_factor_get", lambda user_id: copy.deepcopy(before))

    assert services.second_factor_verify(user=staff, code=code) == "totp"
    assert services.second_factor_verify(user=staff, code=code) is None
    assert services.second_factor_verify(user=staff, code=codes[0]) == "recovery"
    assert services.second_factor_verify(user=staff, code=codes[0]) is None


def test_codes_from_a_step_either_side_of_now_pass(staff, step) -> None:
    secret, _codes = _set_up(_signed_in(), code_step=step["now"] - 1)
    late_clock = _signed_in()

    response = late_clock.post(VERIFY, {"code": pyotp.TOTP(secret).generate_otp(step["now"] + 1)})

    assert response.status_code == 302


def test_wrong_codes_are_rate_limited_per_user_with_retry_after(staff, settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "second_factor_user": "3/15m"}
    secret, _codes = _set_up(_signed_in())
    client = _signed_in()
    for _ in range(3):
        assert client.post(VERIFY, {"code": "000000x"}).status_code == 400

    response = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert client.get("/admin/").status_code == 302


def test_a_right_code_spends_nothing_of_the_budget(staff, settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "second_factor_user": "1/15m"}
    _secret, codes = _set_up(_signed_in())

    for code in codes[:3]:
        assert _signed_in().post(VERIFY, {"code": code}).status_code == 302


def test_the_admin_is_closed_to_staff_until_the_second_factor_and_again_after_a_sign_in(
    staff,
) -> None:
    client = _signed_in()
    for path in ("/admin/", "/admin/accounts/users/", f"/admin/accounts/users/{staff.id}/"):
        response = client.get(path, follow=True)
        first_stop = response.redirect_chain[0][0]
        assert first_stop.startswith("/admin/login/"), path
        assert response.redirect_chain[-1][0].startswith(SETUP), path
    _set_up(client)
    assert client.get("/admin/").status_code == 200

    # Signing in again (the same person, the same browser) asks again.
    assert log_in(client, email="staff@example.com").status_code == 302

    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{VERIFY}?next=/admin/"


def test_passing_the_second_factor_gives_the_session_a_new_key(staff) -> None:
    client = _signed_in()
    before = client.cookies["sessionid"].value

    _set_up(client)

    assert client.cookies["sessionid"].value != before
    assert Client(cookies={"sessionid": before}).get("/admin/").status_code == 302


def test_verifying_leads_only_to_this_site(staff) -> None:
    _secret, codes = _set_up(_signed_in())
    client = _signed_in()

    response = client.post(VERIFY, {"code": codes[0], "next": "https://evil.example/admin/"})

    assert response["Location"] == "/admin/"


def test_users_who_are_not_staff_are_never_asked(signed_in, user) -> None:
    admin = signed_in.get("/admin/", follow=True)
    setup = signed_in.get(SETUP)
    verify = signed_in.get(VERIFY)

    assert admin.status_code == 403
    assert b"no access to the admin" in admin.content
    assert setup.status_code == verify.status_code == 302
    assert setup["Location"] == verify["Location"] == "/accounts/profile/"
    assert selectors.second_factor_get(user_id=user.id) is None


def test_the_secret_and_the_recovery_codes_are_not_stored_in_clear(staff, dynamodb) -> None:
    secret, codes = _set_up(_signed_in())
    port = int(dynamodb.rsplit(":", 1)[1])

    item = dynamodb_client(port).get_item(
        TableName=SecondFactor.Meta.table_name, Key={"user_id": {"S": staff.id}}
    )["Item"]

    stored = json.dumps(item).lower()
    assert secret.lower() not in stored
    for code in codes:
        assert code.replace("-", "") not in stored
        assert code not in stored
    assert otp.decrypt_secret(item["secret"]["S"]) == (secret, False)


def test_a_secret_under_an_old_key_is_re_encrypted_when_used(staff, settings, step) -> None:
    settings.NEBULA_OTP_ENCRYPTION_KEY = "the-old-key-" + "x1y2z3" * 6
    secret, _codes = _set_up(_signed_in(), code_step=step["now"])
    settings.NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = [settings.NEBULA_OTP_ENCRYPTION_KEY]
    settings.NEBULA_OTP_ENCRYPTION_KEY = "the-new-key-" + "a9b8c7" * 6
    step["now"] += 1

    response = _signed_in().post(VERIFY, {"code": pyotp.TOTP(secret).generate_otp(step["now"])})

    assert response.status_code == 302
    settings.NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = []
    stored = selectors.second_factor_get(user_id=staff.id).secret
    assert otp.decrypt_secret(stored) == (secret, False)


# --- The superuser's reset -------------------------------------------------------


def _csrf_post(client: Client, url: str) -> object:
    return client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def _admin(email: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    log_in_staff(
        client,
        email=email,
        password=PASSWORD,
        csrfmiddlewaretoken=client.cookies["csrftoken"].value,
    )
    return client


def test_a_superuser_resets_a_staff_members_second_factor(make_user, staff, caplog) -> None:
    root = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    helper = _admin("staff@example.com")
    boss = _admin("root@example.com")
    url = f"/admin/accounts/users/{staff.id}/"
    page = boss.get(url)
    assert b"Reset the second factor" in page.content
    assert b"10 recovery codes left" in page.content
    caplog.set_level(logging.INFO, logger="accounts.services")

    response = _csrf_post(boss, f"{url}second-factor/reset/")

    assert response.status_code == 302
    assert selectors.second_factor_get(user_id=staff.id) is None
    assert helper.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/accounts/login/")
    assert f"admin {root.id} reset the second factor of user {staff.id}" in caplog.messages
    [entry] = audit_list(entity=("user", staff.id)).entries
    assert (entry.actor_id, entry.action) == (root.id, "user.second_factor_reset")
    assert (entry.before, entry.after) == ({"second_factor": True}, {"second_factor": False})
    # At the next visit they set up a new one.
    again = _signed_in()
    assert again.get("/admin/", follow=True).redirect_chain[-1][0].startswith(SETUP)


def test_a_reset_needs_the_csrf_token(make_user, staff) -> None:
    make_user(email="root@example.com", is_staff=True, is_superuser=True)
    _admin("staff@example.com")
    boss = _admin("root@example.com")

    response = boss.post(f"/admin/accounts/users/{staff.id}/second-factor/reset/")

    assert response.status_code == 403
    assert selectors.second_factor_get(user_id=staff.id) is not None


def test_staff_who_are_not_superusers_cannot_reset_a_second_factor(make_user, staff) -> None:
    make_user(email="other@example.com", is_staff=True)
    _admin("other@example.com")
    target = selectors.user_get_by_email(email="other@example.com")
    helper = _admin("staff@example.com")
    url = f"/admin/accounts/users/{target.id}/"
    assert b"Reset the second factor" not in helper.get(url).content

    response = _csrf_post(helper, f"{url}second-factor/reset/")

    assert response.status_code == 403
    assert b"Only a superuser may reset a second factor" in response.content
    assert selectors.second_factor_get(user_id=target.id).confirmed


def test_deleting_a_staff_account_deletes_its_second_factor(staff) -> None:
    from accounts import services

    _set_up(_signed_in())

    services.user_delete(user=staff)

    assert selectors.second_factor_get(user_id=staff.id) is None
