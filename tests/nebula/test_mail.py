"""Mail goes out beside the request: a failing mail server never reaches the person."""

import logging

import pytest
from django.core import mail

from nebula import mail as nebula_mail


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture
def in_background(settings):
    settings.NEBULA_MAIL_IN_BACKGROUND = True


@pytest.mark.usefixtures("in_background")
def test_mail_is_sent_in_the_background() -> None:
    nebula_mail.send(to="ann@example.com", subject="Hello", body="Hi Ann")
    nebula_mail.wait_for_pending()

    [message] = mail.outbox
    assert (message.to, message.subject, message.body) == (["ann@example.com"], "Hello", "Hi Ann")


@pytest.mark.usefixtures("in_background")
def test_a_failing_mail_server_is_logged_not_raised(settings, caplog) -> None:
    settings.EMAIL_BACKEND = "tests.nebula.test_mail.BrokenBackend"
    caplog.set_level(logging.ERROR, logger="nebula.mail")

    nebula_mail.send(to="ann@example.com", subject="Hello", body="Hi")
    nebula_mail.wait_for_pending()

    [record] = caplog.records
    assert "could not send the mail 'Hello'" in record.getMessage()
    assert "ann@example.com" not in record.getMessage()


@pytest.mark.usefixtures("in_background")
def test_password_reset_answers_the_same_when_the_mail_server_is_down(settings, client) -> None:
    from accounts import services

    services.user_create(email="ann@example.com", password="correct horse battery staple")
    settings.EMAIL_BACKEND = "tests.nebula.test_mail.BrokenBackend"

    known = client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "bob@example.com"})
    nebula_mail.wait_for_pending()

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


@pytest.mark.usefixtures("in_background")
def test_the_sender_hears_that_a_mail_went_out() -> None:
    outcomes = []

    nebula_mail.send(to="ann@example.com", subject="Hello", body="Hi", on_done=outcomes.append)
    nebula_mail.wait_for_pending()

    assert outcomes == [nebula_mail.Delivery(sent=True)]


@pytest.mark.usefixtures("in_background")
def test_the_sender_hears_why_a_mail_failed(settings) -> None:
    settings.EMAIL_BACKEND = "tests.nebula.test_mail.BrokenBackend"
    outcomes = []

    nebula_mail.send(to="ann@example.com", subject="Hello", body="Hi", on_done=outcomes.append)
    nebula_mail.wait_for_pending()

    assert outcomes == [
        nebula_mail.Delivery(sent=False, reason="ConnectionRefusedError: the mail server is down")
    ]


def test_a_mail_that_cannot_be_built_is_reported_as_failed(caplog) -> None:
    outcomes = []

    def build():
        raise KeyError("token")

    nebula_mail.send_built(build, on_done=outcomes.append)

    [outcome] = outcomes
    assert not outcome.sent
    assert outcome.reason.startswith("could not build the mail: KeyError")
    assert mail.outbox == []


def test_a_failing_outcome_receiver_is_logged_not_raised(caplog) -> None:
    caplog.set_level(logging.ERROR, logger="nebula.mail")

    def receiver(delivery):
        raise RuntimeError("the table is gone")

    nebula_mail.send(to="ann@example.com", subject="Hello", body="Hi", on_done=receiver)

    assert len(mail.outbox) == 1
    assert "could not record what became of a mail" in caplog.records[-1].getMessage()
