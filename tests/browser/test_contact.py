"""The contact form in Chromium: errors a person can see and fix, a trap no person meets."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot, set_up_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.mark.parametrize("size", SIZES)
def test_the_contact_form_shows_its_errors_and_hides_its_trap(page_at, site_url, size) -> None:
    page = page_at(SIZES[size])
    page.goto(site_url + "/")
    page.get_by_role("link", name="Contact us").click()
    assert page.title() == "Contact us · Nebula"

    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("Your email address").fill("not an address")
    page.get_by_label("Subject").fill("A question")
    # The browser's own check would stop an empty message; the server's errors are the subject.
    page.evaluate("document.querySelector('form.form').noValidate = true")
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert page.get_by_label("Your name").input_value() == "Ann"  # what was typed stays
    # Off screen (Playwright counts any box with a size as visible), and out of the a11y tree.
    trap = page.locator("input[name=website]").bounding_box()
    assert trap["x"] + trap["width"] <= 0
    assert page.get_by_role("textbox", name="Leave this field empty").count() == 0
    assert page.get_by_role("textbox", name="Subject").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"contact-errors-{size}")


def test_tabbing_through_the_form_never_reaches_the_trap(page_at, site_url) -> None:
    page = page_at(DESKTOP)
    page.goto(site_url + "/contact/")
    page.get_by_label("Your name").focus()

    names = []
    for _ in range(6):
        page.keyboard.press("Tab")
        names.append(
            page.evaluate(
                "document.activeElement.name || document.activeElement.textContent.trim()"
            )
        )

    assert "website" not in names
    assert names[:4] == ["email", "subject", "message", "Send message"]


def test_the_contact_pages_and_their_admin_keep_the_content_security_policy(
    page_at, site_url
) -> None:
    from accounts import services as account_services
    from contact import services
    from tests.accounts.conftest import PASSWORD

    account_services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    services.message_create(name="Ann", email="ann@example.com", subject="A question", message="Hi")
    page = page_at(DESKTOP)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site_url + "/contact/")
    page.goto(site_url + "/contact/sent/")
    page.goto(site_url + "/accounts/login/?next=/admin/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.wait_for_url(site_url + "/admin/")
    page.goto(site_url + "/admin/contact/messages/")
    page.get_by_role("link", name="A question").click()
    page.get_by_role("button", name="Mark handled").click()
    expect(page.get_by_text("is marked handled")).to_be_visible()
    page.wait_for_timeout(300)

    assert violations == []
