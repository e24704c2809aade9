"""Every page says what it is: a meta description of its own, for search results and shares."""

import html
import re

import pyotp
import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client

from accounts import services
from datalayer.jobs import JobKind, job_create
from tests.accounts.conftest import otp_secret_on_page, start_second_factor_setup
from tests.support import ROOT

PASSWORD = "correct horse battery staple"
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')
SITE_DEFAULT = "Nebula: accounts, forms and background jobs in one place."
# Pages no request in this test can reach; rendered directly.
RENDERED_DIRECTLY = ("403.html", "429.html", "500.html", "503.html")


def _page_templates() -> set[str]:
    """Return every page template (not base.html, partials, mail or admin templates)."""
    project = {p.name for p in (ROOT / "templates").glob("*.html") if p.name != "base.html"}
    apps = {
        f"{app}/{p.name}"
        for app in ("accounts", "contact", "jobs")
        for p in (ROOT / app / "templates" / app).glob("*.html")
        if not p.name.startswith("_")
    }
    return project | apps


def _description(content: bytes | str) -> str:
    text = content.decode() if isinstance(content, bytes) else content
    [description] = DESCRIPTION.findall(text)
    return html.unescape(description)


@pytest.fixture
def pages() -> dict[str, str]:
    """Visit every page as a visitor and as a signed-in user; template name -> description."""
    seen: dict[str, str] = {}

    def visit(client: Client, method: str, path: str, status: int, **kwargs: object) -> None:
        response = getattr(client, method)(path, **kwargs)
        assert response.status_code == status, path
        seen[response.templates[0].name] = _description(response.content)

    visitor = Client()
    visit(visitor, "get", "/", 200)
    visit(visitor, "get", "/accounts/signup/", 200)
    visit(visitor, "get", "/accounts/login/", 200)
    visit(visitor, "get", "/accounts/password/reset/", 200)
    visit(visitor, "get", "/accounts/password/reset/sent/", 200)
    visit(visitor, "get", "/accounts/password/reset/done/", 200)
    visit(visitor, "get", "/accounts/password/reset/MQ/no-such-token/", 400)
    visit(visitor, "get", "/accounts/verify/no-such-token/", 400)
    visit(visitor, "get", "/no-such-page/", 404)
    visit(visitor, "get", "/", 400, headers={"Host": "evil.example.com"})
    visit(Client(enforce_csrf_checks=True), "post", "/accounts/login/", 403)
    visit(visitor, "get", "/contact/", 200)
    visit(visitor, "get", "/contact/sent/", 200)

    user = services.user_create(email="ann@example.com", password=PASSWORD)
    mail.outbox.clear()
    newcomer = Client()
    newcomer.post(
        "/accounts/signup/",
        {"email": "bea@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    [verify_link] = re.findall(r"/accounts/verify/\S+/", mail.outbox[0].body)
    visit(newcomer, "get", verify_link, 200)
    newcomer.post(
        "/accounts/profile/",
        {"action": "email", "new_email": "bea@example.org", "password": PASSWORD},
    )
    [change_link] = re.findall(r"/accounts/email/confirm/\S+/", mail.outbox[1].body)
    visit(newcomer, "get", change_link, 200)
    mail.outbox.clear()
    visitor.post("/accounts/password/reset/", {"email": user.email})
    [link] = re.findall(r"/accounts/password/reset/\S+/", mail.outbox[0].body)
    visit(visitor, "get", link, 200, follow=True)

    member = Client()
    assert (
        member.post("/accounts/login/", {"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    visit(member, "get", "/accounts/profile/", 200)
    visit(member, "get", "/accounts/sessions/", 200)
    visit(member, "get", "/accounts/password/", 200)
    visit(member, "get", "/accounts/email/confirm/no-such-token/", 400)
    job, _ = job_create(
        owner_id=user.id, kind=JobKind.EXPORT, params={}, idempotency_key="k" * 16, run_seconds=60
    )
    visit(member, "get", "/jobs/", 200)
    visit(member, "get", f"/jobs/{job.id}/", 200)
    visit(member, "get", "/accounts/delete/", 200)
    visit(member, "post", "/accounts/delete/", 200, data={"password": PASSWORD})

    services.user_create(
        email="staff@example.com", password=PASSWORD, is_staff=True, email_verified=True
    )
    staff = Client()
    staff.post("/accounts/login/", {"email": "staff@example.com", "password": PASSWORD})
    setup = staff.get("/accounts/2fa/setup/")
    seen[setup.templates[0].name] = _description(setup.content)
    code = pyotp.TOTP(otp_secret_on_page(start_second_factor_setup(staff))).now()
    visit(staff, "post", "/accounts/2fa/setup/", 200, data={"code": code})
    visit(staff, "get", "/jobs/import/", 200)
    other_browser = Client()
    other_browser.post("/accounts/login/", {"email": "staff@example.com", "password": PASSWORD})
    visit(other_browser, "get", "/accounts/2fa/verify/", 200)

    for name in RENDERED_DIRECTLY:
        seen[name] = _description(render_to_string(name, {"retry_after_seconds": 5}))
    return seen


def test_every_page_is_visited(pages: dict[str, str]) -> None:
    # A new page template fails here until this test visits it.
    assert set(pages) >= _page_templates()


def test_every_page_has_a_description_of_its_own(pages: dict[str, str]) -> None:
    for name, description in pages.items():
        assert len(description) >= 40, name
        assert description != SITE_DEFAULT, name
    assert len(set(pages.values())) == len(pages)


def test_the_site_description_is_there_for_a_page_without_its_own() -> None:
    description = _description(render_to_string("base.html"))

    assert description == SITE_DEFAULT
