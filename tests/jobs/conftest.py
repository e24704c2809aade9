"""Fixtures for the site's jobs pages: people, their browsers, and the real jobs path."""

from collections.abc import Callable

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from tests.accounts.conftest import PASSWORD, log_in
from tests.lambdas.conftest import gateway, lambda_env, worker_calls  # noqa: F401 - fixtures
from tests.support import free_port


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(email: str = "ann@example.com", **extra: object) -> User:
        extra.setdefault("email_verified", True)
        return account_services.user_create(email=email, password=PASSWORD, **extra)

    return make


@pytest.fixture
def browser() -> Callable[[User], Client]:
    """Return a browser signed in as the given user."""

    def sign_in(user: User) -> Client:
        client = Client()
        assert log_in(client, email=user.email).status_code == 302
        return client

    return sign_in


@pytest.fixture
def site(gateway, settings):  # noqa: F811 - the imported fixture
    """Point the site's jobs API client at the local gateway running the real handlers."""
    settings.NEBULA_JOBS_API_URL = gateway.api_url
    settings.AWS_REGION = "eu-west-1"
    settings.NEBULA_MEDIA_BUCKET = "nebula-test-media"
    return gateway


@pytest.fixture
def api_down(settings) -> None:
    """Point the site's jobs API client at a port nothing listens on."""
    settings.NEBULA_JOBS_API_URL = f"http://127.0.0.1:{free_port()}/v1"
    settings.AWS_REGION = "eu-west-1"
