"""A profile picture in a real Chromium: upload, the job runs, the avatar shows; a bad file."""

import os

import pytest
from playwright.sync_api import expect

from accounts import services
from tests.accounts.conftest import PASSWORD
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.lambdas.conftest import MEDIA_BUCKET, gateway, lambda_env, worker_calls  # noqa: F401
from tests.pictures import samples
from tests.support import dynamodb_env, gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def avatar_site(gateway, moto_endpoint, tmp_path):  # noqa: F811 - the imported fixture
    """Serve the site under Gunicorn with media on moto's S3 and jobs on the local gateway."""
    env = {
        **os.environ,
        **dynamodb_env(int(moto_endpoint.rsplit(":", 1)[1])),
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
        "NEBULA_MEDIA_BUCKET": MEDIA_BUCKET,
        "NEBULA_JOBS_API_URL": gateway.api_url,
        "NEBULA_LOCAL_STATE_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "nebula.settings.test",
        # Signed with the one key the gateway accepts (this process's).
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
    }
    with gunicorn(env) as base:
        yield base


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/profile/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _accessibility_violations(page) -> list[str]:
    """Return the axe-core rules the page breaks (WCAG 2.1 AA and best practice)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [violation["id"] for violation in results.response["violations"]]


def test_an_uploaded_picture_shows_on_the_profile_and_in_the_header(avatar_site, page_at, tmp_path):
    services.user_create(email="pia@example.com", password=PASSWORD, email_verified=True)
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(samples.jpeg_with_gps((1200, 900)))
    page = page_at(DESKTOP)
    _log_in(page, avatar_site, "pia@example.com")
    screenshot(page, "avatar-none-desktop")

    page.get_by_label("New picture").set_input_files(str(photo))
    page.get_by_role("button", name="Upload picture").click()
    page.wait_for_url("**/accounts/profile/")
    expect(page.get_by_text("Your picture is uploaded.")).to_be_visible()
    screenshot(page, "avatar-uploaded-desktop")

    large = page.locator("img.avatar--large")
    for _ in range(60):
        if large.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert large.count() == 1, page.content()
    large.evaluate("img => img.decode()")
    assert large.evaluate("img => img.naturalWidth") == 256
    header = page.locator(".site-header img.avatar--small")
    header.evaluate("img => img.decode()")
    assert header.evaluate("img => img.naturalWidth") == 64
    expect(page.get_by_role("button", name="Remove picture")).to_be_visible()
    assert _accessibility_violations(page) == []
    screenshot(page, "avatar-profile-desktop")

    phone = page_at(PHONE)
    _log_in(phone, avatar_site, "pia@example.com")
    phone.locator("img.avatar--large").evaluate("img => img.decode()")
    assert _fits(phone)
    screenshot(phone, "avatar-profile-phone")


def test_a_gif_is_refused_on_the_page(avatar_site, page_at, tmp_path):
    services.user_create(email="gus@example.com", password=PASSWORD, email_verified=True)
    animation = tmp_path / "funny.png"
    animation.write_bytes(samples.gif())
    page = page_at(PHONE)
    _log_in(page, avatar_site, "gus@example.com")

    page.get_by_label("New picture").set_input_files(str(animation))
    page.get_by_role("button", name="Upload picture").click()

    expect(page.get_by_text("This file is not a PNG, JPEG or WebP picture.")).to_be_visible()
    assert page.locator("img.avatar--large").count() == 0
    assert _fits(page)
    assert _accessibility_violations(page) == []
    screenshot(page, "avatar-refused-phone")
