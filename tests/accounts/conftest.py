"""Accounts fixtures: users made through the services, clients signed in through the form."""

import html
import re
from collections.abc import Callable

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from accounts import selectors, services
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


# Recovery codes of the staff set up by pass_second_factor, by user id: a second
# browser of the same person passes with one (a TOTP code works only once).
_recovery_codes: dict[str, list[str]] = {}


def _csrf(client: Client) -> dict[str, str]:
    token = client.cookies.get("csrftoken")
    return {"csrfmiddlewaretoken": token.value} if token else {}


def start_second_factor_setup(client: Client) -> bytes:
    """Press "Start set-up" (a POST: the GET writes nothing); return the page with the key."""
    started = client.post(
        reverse("accounts:second_factor_setup"), {"start": "1", **_csrf(client)}, follow=True
    )
    assert started.status_code == 200, started.content
    return started.content


def otp_secret_on_page(content: bytes) -> str:
    """Return the TOTP key the setup page shows for typing by hand."""
    shown = re.search(rb'id="otp-key">([^<]+)<', content).group(1).decode()
    return html.unescape(shown).replace(" ", "")


def recovery_codes_on_page(content: bytes) -> list[str]:
    """Return the recovery codes the page shows once, after setting up."""
    return [c.decode() for c in re.findall(rb"<li><code>([a-z2-7-]+)</code></li>", content)]


def pass_second_factor(client: Client, email: str) -> None:
    """Pass the admin's second factor on a staff member's signed-in ``client``.

    The first time it sets the factor up through the pages (scanning nothing:
    the key shown for typing); later browsers pass with a recovery code.
    """
    user = selectors.user_get_by_email(email=email)
    factor = selectors.second_factor_get(user_id=user.id)
    if factor is None or not factor.confirmed:
        page = client.get(reverse("accounts:second_factor_setup"))
        assert page.status_code == 200, page.content
        content = page.content if b'id="otp-key"' in page.content else None
        code = pyotp.TOTP(otp_secret_on_page(content or start_second_factor_setup(client))).now()
        done = client.post(reverse("accounts:second_factor_setup"), {"code": code, **_csrf(client)})
        assert done.status_code == 200, done.content
        _recovery_codes[user.id] = recovery_codes_on_page(done.content)
        return
    code = _recovery_codes[user.id].pop()
    done = client.post(reverse("accounts:second_factor_verify"), {"code": code, **_csrf(client)})
    assert done.status_code == 302, done.content


def log_in_staff(client: Client, email: str, password: str = PASSWORD, **extra) -> None:
    """Sign a staff member in with the password, then pass the second factor."""
    response = log_in(client, email=email, password=password, **extra)
    assert response.status_code == 302, response.content
    pass_second_factor(client, email)
