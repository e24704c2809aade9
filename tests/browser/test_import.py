"""The staff's import page in a real browser: the form, and a bad file's field error."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot, set_up_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_staff_see_the_import_form_and_a_bad_files_error_at_both_widths(
    page_at, site_url, tmp_path
) -> None:
    from accounts import services
    from tests.accounts.conftest import PASSWORD

    services.user_create(
        email="root@example.com", password=PASSWORD, is_staff=True, email_verified=True
    )
    bad = tmp_path / "users.csv"
    bad.write_bytes(b"mail,name\nann@example.com,Ann\n")
    page = page_at(DESKTOP)
    page.goto(site_url + "/accounts/login/?next=/jobs/import/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.wait_for_load_state()
    page.goto(site_url + "/jobs/import/")

    expect(page.get_by_role("heading", name="Import users")).to_be_visible()
    screenshot(page, "import-users-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "import-users-phone")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_load_state()

    error = page.locator(".field--error")
    expect(error).to_be_visible()
    assert "bad header: unknown column 'mail'" in error.inner_text()
    screenshot(page, "import-users-bad-file-phone")
