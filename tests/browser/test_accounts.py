"""Account journeys in a real Chromium, as a person clicks through them."""

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import PASSWORD
from tests.browser.conftest import DESKTOP, PHONE, screenshot, set_up_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _verification_link(mail_dir, address: str) -> str:
    for message in sorted(mail_dir.glob("*.log")):
        text = message.read_text()
        if f"To: {address}" in text and "verify" in text:
            return re.search(r"http://\S+/accounts/verify/\S+", text).group(0)
    raise AssertionError(f"no verification mail for {address}")


def test_sign_up_verify_log_out_and_back_in(page_at, site_url, mail_dir) -> None:
    page = page_at(DESKTOP)
    page.goto(site_url + "/")
    page.get_by_role("link", name="Sign up").click()

    page.get_by_label("Email address").fill("eve@example.com")
    page.get_by_label("Display name").fill("Eve")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/accounts/profile/")
    expect(page.get_by_text("Please confirm your email address")).to_be_visible()
    screenshot(page, "profile-unverified-desktop")

    page.goto(_verification_link(mail_dir, "eve@example.com"))
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your email address"
    page.get_by_role("button", name="Confirm my email address").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Email verified"
    page.goto(site_url + "/accounts/profile/")
    assert page.get_by_text("Please confirm your email address").count() == 0

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(site_url + "/")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(site_url + "/accounts/login/")
    page.get_by_label("Email address").fill("EVE@example.com ")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The email address or password is not right.")).to_be_visible()
    screenshot(page, "login-error-desktop")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/profile/")

    page.goto(site_url + "/accounts/sessions/")
    expect(page.get_by_text("This device")).to_be_visible()
    expect(page.get_by_text("on Linux").first).to_be_visible()
    screenshot(page, "sessions-desktop")


def test_account_pages_fit_a_phone(page_at, site_url) -> None:
    page = page_at(PHONE)
    page.goto(site_url + "/accounts/signup/")
    page.get_by_label("Email address").fill("fay@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("This password is too short")).to_be_visible()
    assert _fits(page)
    screenshot(page, "signup-errors-phone")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/profile/")
    assert _fits(page)
    screenshot(page, "profile-phone")

    page.goto(site_url + "/accounts/sessions/")
    assert _fits(page)
    screenshot(page, "sessions-phone")


def test_staff_use_the_admin_to_list_find_and_deactivate_a_user(page_at, site_url) -> None:
    from accounts import selectors, services

    services.user_create(
        email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    gus = services.user_create(email="gus@example.com", password=PASSWORD, display_name="Gus")
    for n in range(3):
        services.user_create(email=f"user{n}@example.com", password=PASSWORD)
    page = page_at(DESKTOP)

    page.goto(site_url + "/admin/")
    page.wait_for_url("**/accounts/login/?next=/admin/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.wait_for_url(site_url + "/admin/")
    screenshot(page, "admin-index-desktop")

    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("link", name="gus@example.com")).to_be_visible()
    screenshot(page, "admin-users-desktop")

    page.locator("#searchbar").fill("GUS@example.com")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"**/admin/accounts/users/{gus.id}/")
    page.get_by_label("Display name").fill("Gus B")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved gus@example.com.")).to_be_visible()
    page.get_by_role("button", name="Deactivate (ends every session)").click()
    expect(page.get_by_text("Deactivated gus@example.com; ended 0 sessions.")).to_be_visible()
    screenshot(page, "admin-user-desktop")
    assert not selectors.user_get(user_id=gus.id).is_active

    page.get_by_role("link", name="Audit log of this user").click()
    expect(page.get_by_text("user.deactivate")).to_be_visible()
    expect(page.get_by_text("user.change")).to_be_visible()
    screenshot(page, "admin-audit-desktop")


def test_a_superuser_resets_a_staff_members_second_factor(page_at, site_url) -> None:
    import pyotp

    from accounts import otp, selectors, services

    services.user_create(
        email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    helper = services.user_create(email="helper@example.com", password=PASSWORD, is_staff=True)
    factor = services.second_factor_begin(user=helper)
    secret, _ = otp.decrypt_secret(factor.secret)
    services.second_factor_confirm(user=helper, code=pyotp.TOTP(secret).now())
    page = page_at(DESKTOP)
    page.goto(site_url + f"/admin/accounts/users/{helper.id}/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.wait_for_url(f"**/admin/accounts/users/{helper.id}/")
    expect(page.get_by_text("10 recovery codes left")).to_be_visible()
    screenshot(page, "admin-staff-user-desktop")

    page.get_by_role("button", name="Reset the second factor").click()

    expect(page.get_by_text("Reset the second factor of helper@example.com")).to_be_visible()
    expect(page.get_by_text("not set up: asked at the next admin visit")).to_be_visible()
    assert selectors.second_factor_get(user_id=helper.id) is None


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_staff_set_up_the_second_factor_then_pass_it_with_a_recovery_code(
    page_at, site_url, size
) -> None:
    from accounts import services

    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    viewport = PHONE if size == "phone" else DESKTOP

    def log_in(page) -> None:
        page.goto(site_url + "/admin/")
        page.get_by_label("Email address").fill("root@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

    first = page_at(viewport)
    log_in(first)
    first.wait_for_url("**/accounts/2fa/setup/?next=/admin/")
    assert _fits(first)
    screenshot(first, f"second-factor-{size}-start")
    first.get_by_role("button", name="Start set-up").click()
    first.wait_for_url("**/accounts/2fa/setup/?next=/admin/")
    assert first.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert _fits(first)
    codes = set_up_second_factor(first, name=f"second-factor-{size}")
    first.wait_for_url(site_url + "/admin/")

    second = page_at(viewport)
    log_in(second)
    second.wait_for_url("**/accounts/2fa/verify/?next=/admin/")
    assert _fits(second)
    second.get_by_label("Code", exact=True).fill("123 456")
    second.get_by_role("button", name="Verify").click()
    expect(second.get_by_text("That code is not right")).to_be_visible()
    screenshot(second, f"second-factor-{size}-verify-error")
    second.get_by_label("Code", exact=True).fill(codes[0])
    second.get_by_role("button", name="Verify").click()
    second.wait_for_url(site_url + "/admin/")
    expect(second.get_by_text("You used a recovery code")).to_be_visible()


def _mail_link(mail_dir, address: str, path: str) -> str:
    for message in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        text = message.read_text()
        if f"To: {address}" in text and path in text:
            return re.search(rf"http://\S+{re.escape(path)}\S+", text).group(0)
    raise AssertionError(f"no mail to {address} with {path}")


def test_profile_email_change_password_reset_sessions_and_delete(
    page_at, site_url, mail_dir
) -> None:
    from accounts import services

    services.user_create(email="hal@example.com", password=PASSWORD, display_name="Hal")
    page = page_at(DESKTOP)
    other_device = page_at(PHONE)

    # Forgot the password: reset it from the mailed link.
    page.goto(site_url + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill("hal@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(_mail_link(mail_dir, "hal@example.com", "/accounts/password/reset/"))
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password confirmation").fill("a brand new passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Your password has been reset")).to_be_visible()
    # Sign in on two devices with the new password.
    for device in (page, other_device):
        device.goto(site_url + "/accounts/login/")
        device.get_by_label("Email address").fill("hal@example.com")
        device.get_by_label("Password").fill("a brand new passphrase")
        device.get_by_role("button", name="Log in").click()
        device.wait_for_url("**/accounts/profile/")

    # Rename, then change the address through the confirmation mail.
    page.get_by_role("textbox", name="Display name").fill("Hal 9000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    page.get_by_label("New email address").fill("hal9000@example.com")
    page.get_by_label("Your password").fill("a brand new passphrase")
    page.get_by_role("button", name="Send confirmation link").click()
    page.goto(_mail_link(mail_dir, "hal9000@example.com", "/accounts/email/confirm/"))
    page.get_by_role("button", name="Change my email address").click()
    expect(page.get_by_role("heading", name="Email address changed")).to_be_visible()
    # Sign the other device out from the sessions page.
    page.goto(site_url + "/accounts/sessions/")
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_text("Signed out 1 other session.")).to_be_visible()
    other_device.goto(site_url + "/accounts/profile/")
    assert "/accounts/login/" in other_device.url

    # Delete the account.
    page.goto(site_url + "/accounts/delete/")
    screenshot(page, "delete-desktop")
    page.get_by_label("Your password").fill("a brand new passphrase")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account has been deleted")).to_be_visible()
    expect(page.get_by_text("hal9000@example.com")).to_be_visible()
    screenshot(page, "deleted-desktop")
