"""What account mails say: never text a stranger chose, to an address not yet proven."""

import json
import logging
import threading

import pytest
from django.core import mail
from django.test import Client
from django.test.signals import template_rendered

from nebula import mail as nebula_mail
from nebula.logging import JSONFormatter
from tests.accounts.conftest import PASSWORD, log_in

NAME = "Captain Zed"


def test_the_verification_mail_does_not_greet_by_name(client) -> None:
    client.post(
        "/accounts/signup/",
        {
            "email": "bea@example.com",
            "display_name": NAME,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    [message] = mail.outbox
    assert message.to == ["bea@example.com"]
    assert message.body.startswith("Hello,\n")
    assert NAME not in message.body


def test_the_email_change_mail_does_not_greet_by_name(make_user) -> None:
    make_user(email="bea@example.com", display_name=NAME)
    browser = Client()
    log_in(browser, email="bea@example.com")

    browser.post(
        "/accounts/profile/",
        {"action": "email", "new_email": "someone.else@example.com", "password": PASSWORD},
    )

    [message] = mail.outbox
    assert message.to == ["someone.else@example.com"]
    assert message.body.startswith("Hello,\n")
    assert NAME not in message.body


def test_the_reset_mail_greets_by_name_only_a_verified_address(client, make_user) -> None:
    make_user(email="bea@example.com", display_name=NAME)
    make_user(email="cy@example.com", display_name=NAME, email_verified=True)

    for email in ("bea@example.com", "cy@example.com"):
        client.post("/accounts/password/reset/", {"email": email})

    unverified, verified = mail.outbox
    assert NAME not in unverified.body
    assert verified.body.startswith(f"Hi {NAME},\n")


RESET_MAIL = "accounts/email/password_reset.txt"


@pytest.fixture
def rendered_in_request():
    """Collect the templates rendered in this (the request's) thread, and all rendered."""
    request_thread = threading.get_ident()
    here: list[str] = []
    everywhere: list[str] = []

    def record(sender, template, **_) -> None:
        everywhere.append(template.name)
        if threading.get_ident() == request_thread:
            here.append(template.name)

    template_rendered.connect(record)
    yield here, everywhere
    template_rendered.disconnect(record)


@pytest.mark.parametrize("email", ["ann@example.com", "nobody@example.com"])
def test_a_reset_request_renders_no_mail_in_the_request(
    user, settings, rendered_in_request, email
) -> None:
    settings.NEBULA_MAIL_IN_BACKGROUND = True
    here, everywhere = rendered_in_request

    response = Client().post("/accounts/password/reset/", {"email": email})
    nebula_mail.wait_for_pending()

    assert response.status_code == 302
    assert RESET_MAIL not in here
    sent = [m.to for m in mail.outbox]
    assert sent == ([["ann@example.com"]] if email == "ann@example.com" else [])
    assert (RESET_MAIL in everywhere) == bool(sent)


def test_a_reset_request_reads_the_same_for_known_and_unknown_addresses(user, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nebula.access")

    def calls(email: str, ip: str) -> int:
        caplog.clear()
        response = Client(REMOTE_ADDR=ip).post("/accounts/password/reset/", {"email": email})
        assert response.status_code == 302
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        return json.loads(JSONFormatter().format(record))["dynamodb_calls"]

    assert calls("ann@example.com", "192.0.2.1") == calls("nobody@example.com", "192.0.2.2")


def test_links_in_mail_use_the_configured_site_address(client, user, settings) -> None:
    settings.NEBULA_SITE_URL = "https://nebula.example.com"

    client.post("/accounts/password/reset/", {"email": "ann@example.com"}, HTTP_HOST="testserver")

    assert "https://nebula.example.com/accounts/password/reset/" in mail.outbox[0].body
