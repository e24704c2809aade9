"""Nothing is lost when mail fails: the message is kept and the failure shown to staff."""

import logging

import pytest
from django.core import mail

from contact.models import MAIL_FAILED, MAIL_SENT
from nebula import mail as nebula_mail
from tests.contact.conftest import GOOD, stored


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "tests.contact.conftest.BrokenBackend"


@pytest.mark.usefixtures("mail_server_down")
def test_a_failing_mail_server_keeps_the_message_and_records_why(client, caplog) -> None:
    caplog.set_level(logging.WARNING)

    response = client.post("/contact/", GOOD)

    assert response.status_code == 302
    [message] = stored()
    assert message.message == GOOD["message"]
    assert message.mail_status == MAIL_FAILED
    assert message.confirmation_mail == message.notification_mail == MAIL_FAILED
    assert message.confirmation_error == "ConnectionRefusedError: the mail server is down"
    assert any(f"contact message {message.id}" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("mail_server_down")
def test_staff_see_the_failed_mail_in_the_admin(client, staff_client) -> None:
    client.post("/contact/", GOOD)
    [message] = stored()

    listing = staff_client.get("/admin/contact/messages/").content.decode()
    detail = staff_client.get(f"/admin/contact/messages/{message.id}/").content.decode()

    assert "failed" in listing
    assert "A mail about this message failed" in detail
    assert "notification to staff: ConnectionRefusedError: the mail server is down" in detail


def test_no_staff_address_is_recorded_as_a_failed_notification(client, settings) -> None:
    settings.NEBULA_CONTACT_RECIPIENTS = []

    client.post("/contact/", GOOD)

    [message] = stored()
    assert message.confirmation_mail == MAIL_SENT
    assert message.notification_mail == MAIL_FAILED
    assert "NEBULA_CONTACT_RECIPIENTS" in message.notification_error
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_every_staff_address_is_told(client, settings) -> None:
    settings.NEBULA_CONTACT_RECIPIENTS = ["one@example.com", "two@example.com"]

    client.post("/contact/", GOOD)

    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["one@example.com", "two@example.com"]
    assert stored()[0].mail_status == MAIL_SENT


def test_one_staff_address_failing_makes_the_notification_failed(client, settings) -> None:
    settings.EMAIL_BACKEND = "tests.contact.conftest.OneBrokenMailboxBackend"
    settings.NEBULA_CONTACT_RECIPIENTS = ["broken@example.com", "two@example.com"]

    client.post("/contact/", GOOD)

    [message] = stored()
    assert [m.to for m in mail.outbox] == [["ann@example.com"], ["two@example.com"]]
    assert message.confirmation_mail == MAIL_SENT
    assert message.notification_mail == MAIL_FAILED
    assert message.notification_error == "ConnectionRefusedError: mailbox unavailable"


def test_mail_sent_in_the_background_is_recorded_when_it_is_done(client, settings) -> None:
    settings.NEBULA_MAIL_IN_BACKGROUND = True

    client.post("/contact/", GOOD)
    nebula_mail.wait_for_pending()

    [message] = stored()
    assert message.mail_status == MAIL_SENT
    assert len(mail.outbox) == 2
