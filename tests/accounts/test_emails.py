"""What account mails say: never text a stranger chose, to an address not yet proven."""

from django.core import mail
from django.test import Client

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
