"""The pages as a person sees them in Chromium: phone and desktop, light and dark."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot, set_up_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"phone": PHONE, "desktop": DESKTOP}


def _luminance(css_color: str) -> float:
    red, green, blue = (
        int(part) for part in css_color[css_color.index("(") + 1 : -1].split(",")[:3]
    )
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_home_page_fits_the_screen_and_says_what_nebula_is(page_at, site_url, size, scheme) -> None:
    page = page_at(SIZES[size], scheme)
    page.goto(site_url + "/")

    assert page.title() == "Home · Nebula"
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_be_visible()
    # Nothing sticks out sideways, even on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    if scheme == "dark":
        assert _luminance(background) < 0.25
    else:
        assert _luminance(background) > 0.85
    screenshot(page, f"home-{size}-{scheme}")


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page_at, site_url) -> None:
    page = page_at(DESKTOP)
    page.goto(site_url + "/")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    expect(page.get_by_text("Skip to main content")).to_be_visible()
    screenshot(page, "skip-link-focused")

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("size", SIZES)
def test_missing_page_shows_a_helpful_404(page_at, site_url, size) -> None:
    page = page_at(SIZES[size])
    response = page.goto(site_url + "/no-such-page/")

    assert response.status == 404
    assert "find that page" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="home", exact=False).first.click()
    assert page.url == site_url + "/"
    screenshot(page, f"404-{size}")


def test_no_page_breaks_the_content_security_policy(page_at, site_url) -> None:
    from accounts import services
    from tests.accounts.conftest import PASSWORD

    services.user_create(
        email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    page = page_at(DESKTOP)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in ("/", "/accounts/signup/", "/accounts/login/", "/no-such-page/"):
        response = page.goto(site_url + path)
        assert "default-src 'self'" in response.headers["content-security-policy"]
    page.goto(site_url + "/accounts/login/?next=/admin/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.wait_for_url(site_url + "/admin/")
    for path in (
        "/accounts/profile/",
        "/accounts/sessions/",
        "/admin/",
        "/admin/accounts/users/",
        "/admin/audit/",
    ):
        page.goto(site_url + path)
    page.wait_for_timeout(300)

    assert violations == []
