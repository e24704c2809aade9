"""The contact form's limits: per client IP and per address, each with its own Retry-After."""

import pytest
from django.core import mail
from django.test import Client

from contact.models import ContactMessage
from tests.contact.conftest import GOOD


@pytest.fixture
def rates(settings):
    def set_rate(name: str, rate: str) -> None:
        settings.NEBULA_RATES = {**settings.NEBULA_RATES, name: rate}

    return set_rate


def test_messages_are_limited_per_ip(rates) -> None:
    rates("contact_ip", "3/h")
    client = Client(REMOTE_ADDR="203.0.113.5")

    statuses = [
        client.post("/contact/", {**GOOD, "email": f"p{n}@example.com"}).status_code
        for n in range(3)
    ]
    limited = client.post("/contact/", {**GOOD, "email": "p9@example.com"})

    assert statuses == [302, 302, 302]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    assert ContactMessage.count() == 3
    assert len(mail.outbox) == 6
    other = Client(REMOTE_ADDR="203.0.113.6").post("/contact/", GOOD)
    assert other.status_code == 302


def test_messages_are_limited_per_address_in_any_spelling(rates) -> None:
    rates("contact_email", "2/15m")
    spellings = [
        "ann@example.com",
        "ANN@Example.COM",
        "ann@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    ]

    responses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post("/contact/", {**GOOD, "email": email})
        for n, email in enumerate(spellings)
    ]

    assert [r.status_code for r in responses] == [302, 302, 429]
    assert responses[2]["Retry-After"] == "900"
    assert ContactMessage.count() == 2


def test_the_honeypot_counts_too(rates) -> None:
    rates("contact_ip", "1/h")
    client = Client(REMOTE_ADDR="203.0.113.7")

    client.post("/contact/", {**GOOD, "website": "spam"})

    assert client.post("/contact/", GOOD).status_code == 429


def test_reading_the_page_is_not_limited(rates) -> None:
    rates("contact_ip", "1/h")
    client = Client(REMOTE_ADDR="203.0.113.8")

    assert [client.get("/contact/").status_code for _ in range(3)] == [200, 200, 200]
