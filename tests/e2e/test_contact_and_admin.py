"""Journey 2: a visitor writes in and signs up; the local admin deals with both, in Chromium.

The admin is the one ``make run`` creates (``NEBULA_LOCAL_ADMIN_PASSWORD`` is set by
the e2e conftest); the admin passes the staff second factor with a code computed
from the key the setup page shows, as a person types it into an app.
"""

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

EMAIL = "orion@example.com"
PASSWORD = "a hunter walks the winter sky"
SUBJECT = "Cannot find the export button"


class People:
    visitor = None
    admin = None


class TestContactAndAdmin:
    def test_a_visitor_sends_the_contact_form(self, site, new_context, check_page) -> None:
        page = People.visitor = new_context(PHONE).new_page()
        page.goto(site.url + "/")
        page.get_by_role("link", name="Contact us").click()
        check_page(page, "contact")
        page.get_by_label("Your name").fill("Orion")
        page.get_by_label("Your email address").fill(EMAIL)
        page.get_by_label("Subject").fill(SUBJECT)
        page.get_by_label("Message").fill("Where do I start an export of my data?")
        page.get_by_role("button", name="Send message").click()
        page.wait_for_url("**/contact/sent/")
        check_page(page, "contact-sent")
        # The sender's confirmation is in local mode's mail folder.
        site.mail_to(EMAIL, "We received your message")

    def test_the_visitor_signs_up(self, site, check_page) -> None:
        page = People.visitor
        page.goto(site.url + "/accounts/signup/")
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Display name").fill("Orion")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/accounts/profile/")
        expect(page.get_by_role("heading", name="Your profile")).to_be_visible()

    def test_the_admin_logs_in_with_the_second_factor(self, site, new_context, check_page) -> None:
        page = People.admin = new_context().new_page()
        page.goto(site.url + "/admin/")
        page.wait_for_url("**/accounts/login/?next=/admin/")
        page.get_by_label("Email address").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Log in").click()

        # First visit: set up the second factor with the key shown for typing.
        page.wait_for_url("**/accounts/2fa/setup/**")
        # The page changes nothing on GET: a button starts the set-up.
        check_page(page, "second-factor-start")
        page.get_by_role("button", name="Start set-up").click()
        page.locator("#otp-key").wait_for()
        check_page(page, "second-factor-setup")
        key = page.locator("#otp-key").inner_text().replace(" ", "")
        page.get_by_label("Code from your app").fill(pyotp.TOTP(key).now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
        check_page(page, "second-factor-recovery-codes")
        page.get_by_role("link", name="I saved them: continue").click()
        page.wait_for_url(site.url + "/admin/")
        expect(page.get_by_role("img", name="Sign-ups per day")).to_be_visible()
        check_page(page, "admin-index")

    def test_the_admin_finds_the_user_and_deactivates_them(self, site, check_page) -> None:
        page = People.admin
        page.get_by_role("link", name="Users", exact=True).click()
        expect(page.get_by_role("link", name=EMAIL)).to_be_visible()
        check_page(page, "admin-users")
        page.locator("#searchbar").fill(EMAIL.upper())
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/admin/accounts/users/*/")
        expect(page.get_by_role("heading", name=EMAIL)).to_be_visible()
        check_page(page, "admin-user")
        page.get_by_role("button", name="Deactivate (ends every session)").click()
        expect(page.get_by_text(f"Deactivated {EMAIL}; ended 1 session.")).to_be_visible()
        check_page(page, "admin-user-deactivated")

        # The person's open browser is signed out on its next request.
        visitor = People.visitor
        visitor.goto(site.url + "/accounts/profile/")
        visitor.wait_for_url("**/accounts/login/?next=/accounts/profile/")
        visitor.get_by_label("Email address").fill(EMAIL)
        visitor.get_by_label("Password").fill(PASSWORD)
        visitor.get_by_role("button", name="Log in").click()
        expect(visitor.get_by_text("The email address or password is not right.")).to_be_visible()

    def test_the_admin_reads_and_handles_the_message(self, site, check_page) -> None:
        page = People.admin
        page.goto(site.url + "/admin/")
        page.get_by_role("link", name="Contact messages").first.click()
        check_page(page, "admin-messages")
        page.get_by_role("link", name=SUBJECT).click()
        expect(page.get_by_text("Where do I start an export of my data?")).to_be_visible()
        check_page(page, "admin-message")
        page.get_by_role("button", name="Mark handled").click()
        expect(page.get_by_text("is marked handled")).to_be_visible()
        check_page(page, "admin-message-handled")

    def test_the_admin_sees_the_audit_entries(self, site, check_page) -> None:
        page = People.admin
        page.goto(site.url + "/admin/accounts/users/")
        page.get_by_role("link", name=EMAIL).click()
        page.get_by_role("link", name="Audit log of this user").click()
        rows = page.locator("#result_list tbody tr")
        expect(rows.filter(has_text="user.deactivate")).to_have_count(1)
        expect(rows.filter(has_text=ADMIN_EMAIL).first).to_be_visible()
        check_page(page, "admin-audit")

        # The admin's own actions, from the index.
        page.goto(site.url + "/admin/")
        page.get_by_role("link", name="All my actions").click()
        expect(rows.filter(has_text="user.deactivate").filter(has_text=EMAIL)).to_have_count(1)
        # Handling the visitor's message is audited too.
        expect(rows.filter(has_text="contact_message.handle")).to_have_count(1)
