"""Contact fixtures: a good form, browsers for visitors and staff, mail backends that fail."""

import re

import pytest
from django.test import Client

from accounts import selectors
from contact.models import ContactMessage
from tests.accounts.conftest import (  # noqa: F401
    PASSWORD,
    log_in,
    make_user,
    pass_second_factor,
    signed_in,
    user,
)

GOOD = {
    "name": "Ann Example",
    "email": "ann@example.com",
    "subject": "A question about jobs",
    "message": "Hello,\nhow long may a job run?\n\nThanks",
}


class BrokenBackend:
    """A mail backend whose server is down."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("the mail server is down")


class OneBrokenMailboxBackend:
    """A mail backend that refuses mail to broken@example.com and delivers the rest."""

    def __init__(self, *args, **kwargs) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        self.delivering = EmailBackend(*args, **kwargs)

    def send_messages(self, messages) -> int:
        if any("broken@example.com" in m.to for m in messages):
            raise ConnectionRefusedError("mailbox unavailable")
        return self.delivering.send_messages(messages)


def stored() -> list[ContactMessage]:
    """Return every stored message (a Scan: tests only)."""
    return list(ContactMessage.scan(consistent_read=True))


def csrf_token(client: Client) -> str:
    return client.cookies["csrftoken"].value


def csrf_client(email: str) -> Client:
    """A browser that checks CSRF as a real one does, signed in as ``email``."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"email": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(client)},
    )
    assert response.status_code == 302, response.content
    account = selectors.user_get_by_email(email=email)
    if account is not None and account.is_staff:
        pass_second_factor(client, email)
    return client


def form_token(page: bytes) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


@pytest.fixture
def staff(make_user):  # noqa: F811
    return make_user(email="helper@example.com", is_staff=True)


@pytest.fixture
def staff_client(staff) -> Client:
    return csrf_client("helper@example.com")
