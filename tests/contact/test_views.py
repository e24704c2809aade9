"""The contact page as visitors and users meet it: stored first, then two mails."""

import logging

import pytest
from django.core import mail
from django.test import Client

from contact.models import MAIL_SENT, STATUS_NEW, ContactMessage
from tests.contact.conftest import GOOD, stored


def _post(client: Client, **changes: str):
    return client.post("/contact/", {**GOOD, **changes})


def test_a_message_is_stored_then_confirmed_to_the_sender_and_announced_to_staff(client) -> None:
    response = _post(client)

    assert response.status_code == 302
    assert response["Location"] == "/contact/sent/"
    [message] = stored()
    assert (message.name, message.email, message.subject) == (
        "Ann Example",
        "ann@example.com",
        "A question about jobs",
    )
    assert message.message == GOOD["message"]
    assert message.status == STATUS_NEW
    assert message.user_id is None
    assert (message.confirmation_mail, message.notification_mail) == (MAIL_SENT, MAIL_SENT)
    confirmation, notification = mail.outbox
    assert confirmation.to == ["ann@example.com"]
    assert notification.to == ["staff@example.com"]
    assert message.id[:8] in confirmation.body
    assert GOOD["message"] in notification.body
    assert f"/admin/contact/messages/{message.id}/" in notification.body


def test_the_confirmation_repeats_nothing_the_visitor_typed(client) -> None:
    _post(
        client,
        name="Visit evil.example.com now",
        subject="You won a prize at evil.example.com",
        message="Click https://evil.example.com",
    )

    confirmation = mail.outbox[0]
    assert "evil.example.com" not in confirmation.subject + confirmation.body
    # Nothing typed reaches a header of either mail.
    assert all("evil" not in m.subject for m in mail.outbox)


def test_the_sent_page_thanks_the_sender(client) -> None:
    response = _post(client, email="ann@example.com")

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Thank you for your message" in page.content


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", b"This field is required."),
        ("name", "x" * 101, b"at most 100 characters"),
        ("name", "Ann\r\nBcc: eve@example.com", b"no line breaks"),
        ("name", "Ann\u202eevil", b"no line breaks"),
        ("email", "", b"This field is required."),
        ("email", "not an address", b"Enter a valid email address."),
        ("email", "ann@example.com\nbcc@example.com", b"Enter a valid email address."),
        ("email", "a" * 250 + "@example.com", b"at most 254 characters"),
        ("subject", "", b"This field is required."),
        ("subject", "Hi\nBcc: eve@example.com", b"no line breaks"),
        ("subject", "x" * 151, b"at most 150 characters"),
        ("message", "", b"This field is required."),
        ("message", "   ", b"This field is required."),
        ("message", "x" * 5001, b"at most 5000 characters"),
        ("message", "Hello\x00there", b"Remove the control characters"),
        ("message", "Hello\x1b[31mthere", b"Remove the control characters"),
    ],
)
def test_bad_input_is_a_field_error_and_stores_and_sends_nothing(client, field, value, error):
    response = _post(client, **{field: value})

    assert response.status_code == 400
    assert error in response.content
    assert f'id="id_{field}"'.encode() in response.content
    assert b'aria-invalid="true"' in response.content
    assert ContactMessage.count() == 0
    assert mail.outbox == []


def test_a_missing_field_is_a_field_error_not_a_crash(client) -> None:
    response = client.post("/contact/", {"name": "Ann"})

    assert response.status_code == 400
    assert response.content.count(b"This field is required.") == 3
    assert ContactMessage.count() == 0


def test_an_empty_post_shows_the_errors(client) -> None:
    response = client.post("/contact/", {})

    assert response.status_code == 400
    assert response.content.count(b"This field is required.") == 4


def test_a_message_may_have_line_breaks_and_tabs(client) -> None:
    assert _post(client, message="Line one\r\n\tindented\r\nline three").status_code == 302


def test_a_filled_honeypot_looks_like_success_but_stores_and_sends_nothing(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="contact.views")

    response = _post(client, website="https://spam.example.com")

    assert response.status_code == 302
    assert response["Location"] == "/contact/sent/"
    assert ContactMessage.count() == 0
    assert mail.outbox == []
    assert any("honeypot" in r.getMessage() for r in caplog.records)


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client) -> None:
    page = client.get("/contact/").content.decode()

    trap = page[page.index('<div class="form-trap"') :]
    trap = trap[: trap.index("</div>")]
    assert 'aria-hidden="true"' in trap
    assert 'name="website"' in trap
    assert 'tabindex="-1"' in trap
    assert 'autocomplete="off"' in trap
    assert "<script" not in page


def test_a_signed_in_user_finds_their_address_filled_in_and_is_remembered(signed_in, user) -> None:
    page = signed_in.get("/contact/")

    assert b'value="ann@example.com"' in page.content
    assert b'value="Ann"' in page.content  # their display name

    signed_in.post("/contact/", {**GOOD, "name": "Ann"})
    [message] = stored()
    assert message.user_id == user.id


def test_a_visitor_sees_an_empty_form(client) -> None:
    page = client.get("/contact/")

    assert page.status_code == 200
    assert b'name="email" value=' not in page.content


def test_the_form_needs_a_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/contact/")

    refused = browser.post("/contact/", GOOD)
    accepted = browser.post(
        "/contact/", {**GOOD, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert ContactMessage.count() == 1


@pytest.mark.parametrize(
    "path", ["/", "/contact/", "/contact/sent/", "/accounts/login/", "/no-such-page/"]
)
def test_every_page_links_to_the_contact_page_in_its_footer(client, path) -> None:
    page = client.get(path).content.decode()

    footer = page[page.index('<footer class="site-footer">') :]
    assert 'href="/contact/"' in footer


def test_the_signed_in_pages_link_to_the_contact_page_too(signed_in) -> None:
    page = signed_in.get("/accounts/profile/").content.decode()

    assert 'href="/contact/"' in page[page.index('<footer class="site-footer">') :]


def test_a_visitor_reads_the_form_without_a_dynamodb_call(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nebula.access")

    assert client.get("/contact/").status_code == 200

    [access] = [r for r in caplog.records if r.name == "nebula.access"]
    assert access.dynamodb_calls == 0
