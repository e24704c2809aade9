"""Accounts fixtures: users made through the services, clients signed in through the form."""

from collections.abc import Callable

import pytest
from django.test import Client

from accounts import services
from accounts.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(email: str = "ann@example.com", password: str = PASSWORD, **extra: object) -> User:
        return services.user_create(email=email, password=password, **extra)

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user(display_name="Ann")


@pytest.fixture
def superuser(make_user) -> User:
    """A superuser, for services that take the acting admin."""
    return make_user(email="super@example.com", is_staff=True, is_superuser=True)


def log_in(client: Client, email: str = "ann@example.com", password: str = PASSWORD, **extra):
    return client.post(
        "/accounts/login/", {"email": email, "password": password, **extra}, follow=False
    )


@pytest.fixture
def signed_in(user: User) -> Client:
    """A browser signed in as ``user``."""
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    response = log_in(client)
    assert response.status_code == 302, response.content
    return client
