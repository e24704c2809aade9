"""Edges: secrets in logs, deleted users, conflicting transactions, odd cookies and links."""

import json
import logging
import re

import pytest
from botocore.awsrequest import AWSResponse
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client

from accounts import selectors, services
from accounts.models import EmailClaim, Session, User
from nebula.dynamo.models import connection
from nebula.logging import JSONFormatter
from tests.accounts.conftest import PASSWORD, log_in


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_reset_and_verification_tokens_never_reach_the_logs(client, user, caplog) -> None:
    caplog.set_level(logging.INFO)
    client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = _link(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]

    client.get(link, follow=True)
    client.get("/accounts/verify/not-a-real-token/")

    written = "\n".join(JSONFormatter().format(r) for r in caplog.records)
    assert token not in written
    assert "not-a-real-token" not in written
    assert "/accounts/password/reset/<str:uidb64>/<str:token>/" in written


def test_updates_never_bring_a_deleted_user_back(user, superuser) -> None:
    stale = selectors.user_get(user_id=user.id)
    services.user_delete(user=user)

    for update in (
        lambda: services.user_record_login(user=stale),
        lambda: services.user_set_password(user=stale, password="another long phrase"),
    ):
        with pytest.raises(services.UserGoneError):
            update()
    with pytest.raises(services.ConcurrentEditError):
        services.user_admin_update(
            actor=superuser,
            user=stale,
            expected_version=stale.version,
            changes={"is_active": False},
        )
    assert User.count(user.id) == 0


def test_a_login_stamp_does_not_make_an_open_profile_form_stale(signed_in, user) -> None:
    page = signed_in.get("/accounts/profile/")
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()
    log_in(Client())  # the same person signs in on another device

    response = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "Annie", "version": version}
    )

    assert response.status_code == 302


def _conflict(**_) -> AWSResponse:
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled [None, TransactionConflict]",
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
    }

    class Raw:
        def stream(self, **_):
            yield json.dumps(body).encode()

    return AWSResponse("https://dynamodb", 400, {}, Raw())


@pytest.fixture
def conflicts():
    """Answer the next N TransactWriteItems calls with a TransactionConflict, as AWS may."""
    events = connection().client.meta.events
    remaining = {"n": 0}

    def handler(**kwargs):
        if remaining["n"] > 0:
            remaining["n"] -= 1
            return _conflict()
        return None

    events.register("before-send.dynamodb.TransactWriteItems", handler)

    def set_count(n: int) -> None:
        remaining["n"] = n

    yield set_count
    events.unregister("before-send.dynamodb.TransactWriteItems", handler)


def test_a_transaction_conflict_is_retried(conflicts) -> None:
    conflicts(1)

    user = services.user_create(email="gil@example.com", password=PASSWORD)

    assert User.count(user.id) == 1
    assert EmailClaim.count("gil@example.com") == 1


def test_a_lasting_conflict_is_a_clear_form_error_not_a_500(conflicts, client) -> None:
    conflicts(10)

    response = client.post(
        "/accounts/signup/",
        {"email": "gil@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert b"Try again in a moment" in response.content
    assert User.count() == 0


def test_resetting_the_password_while_signed_in_as_that_user_works(signed_in, user) -> None:
    signed_in.post("/accounts/password/reset/", {"email": "ann@example.com"})
    form = signed_in.get(_link(mail.outbox[0]), follow=True)

    done = signed_in.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a whole new secret", "new_password2": "a whole new secret"},
    )

    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/done/"


def test_an_invalid_reset_link_costs_no_session(client, user) -> None:
    response = client.get("/accounts/password/reset/MTIz/abc-def/", follow=True)

    assert response.status_code == 400
    assert "sessionid" not in response.cookies
    assert Session.count() == 0


@pytest.mark.parametrize("cookie", ["x" * 5000, "short", "A" * 32, "../../etc/passwd" * 3])
def test_a_junk_session_cookie_is_no_session_and_costs_nothing(client, cookie, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nebula.access")
    client.cookies["sessionid"] = cookie

    response = client.get("/")

    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "nebula.access"]
    assert record.dynamodb_calls == 0


def test_an_overlong_reset_uid_is_a_400(client) -> None:
    response = client.get(f"/accounts/password/reset/{'A' * 4000}/abc-def/")

    assert response.status_code == 400


def test_a_huge_version_number_is_a_field_error(signed_in) -> None:
    response = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "A", "version": "9" * 60}
    )

    assert response.status_code == 400
    assert b"out of date" in response.content


def test_old_password_hashes_are_upgraded_at_login(client, user) -> None:
    legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User._get_connection().update_item(user.id, actions=[User.password.set(legacy)])

    assert log_in(client).status_code == 302

    assert selectors.user_get(user_id=user.id).password.startswith("argon2$argon2id$")


def test_links_in_mail_use_the_configured_site_address(client, user, settings) -> None:
    settings.NEBULA_SITE_URL = "https://nebula.example.com"

    client.post("/accounts/password/reset/", {"email": "ann@example.com"}, HTTP_HOST="testserver")

    assert "https://nebula.example.com/accounts/password/reset/" in mail.outbox[0].body


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
