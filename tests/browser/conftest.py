"""A real Chromium (Debian's) driven by Playwright, against the site under real Gunicorn."""

import os
from pathlib import Path

import pytest

from tests.support import ROOT, dynamodb_env, gunicorn

CHROMIUM = Path(os.environ.get("NEBULA_CHROMIUM", "/usr/bin/chromium"))
# Chromium must not try to reach the internet (there is none here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-results" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory) -> Path:
    """The folder the served site writes its mails to (one file per message)."""
    return tmp_path_factory.mktemp("state") / "mail"


@pytest.fixture(scope="session")
def site_url(moto_endpoint: str, mail_dir: Path):
    """Serve the site with Gunicorn (test settings) for the whole session."""
    env = {
        **os.environ,
        **dynamodb_env(int(moto_endpoint.rsplit(":", 1)[1])),
        "NEBULA_LOCAL_STATE_DIR": str(mail_dir.parent),
        "DJANGO_SETTINGS_MODULE": "nebula.settings.test",
    }
    with gunicorn(env) as base:
        yield base


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def page_at(browser):
    """Open a page with a given viewport and colour scheme; close it afterwards."""
    contexts = []

    def open_page(viewport: dict, color_scheme: str = "light"):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    """Keep a screenshot for people to look at (test-results/ is not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def set_up_second_factor(page, name: str | None = None) -> list[str]:
    """Set up the admin's second factor on the page it leads to; return the recovery codes.

    The key is read from the page, as a person types it into an app. With
    ``name``, screenshots of both steps are kept under that name.
    """
    import pyotp

    page.wait_for_url("**/accounts/2fa/setup/**")
    start = page.get_by_role("button", name="Start set-up")
    if start.count():
        if name:
            screenshot(page, f"{name}-start")
        start.click()
    page.locator("#otp-key").wait_for()
    if name:
        screenshot(page, f"{name}-setup")
    key = page.locator("#otp-key").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    if name:
        screenshot(page, f"{name}-recovery-codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    page.get_by_role("link", name="I saved them: continue").click()
    return codes
