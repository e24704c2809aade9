"""Journey 1: a new user, from signing up to deleting the account, in Chromium.

Each step is a test; they run in order on one user and one browser (a step that
fails marks the later ones "xfail: an earlier step failed"). The avatar step is on
its own so that it can wait for the avatar upload to exist (see its docstring).
"""

import io
import json
import time
import zipfile
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, TIMEOUT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

EMAIL = "nova@example.com"
PASSWORD = "stars over the harbour at night"
NEW_PASSWORD = "a quieter sky after the storm"


class Member:
    """What the steps share: one person's browser (and a second device of theirs)."""

    page = None
    other_device = None
    password = PASSWORD


def _log_in(page, site, password: str) -> None:
    page.goto(site.url + "/accounts/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/profile/")


class TestNewUser:
    def test_signs_up_and_verifies_from_the_mail(self, site, new_context, check_page) -> None:
        page = Member.page = new_context().new_page()
        page.goto(site.url + "/")
        check_page(page, "home")
        page.get_by_role("link", name="Sign up").click()
        check_page(page, "signup")
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Display name").fill("Nova")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()

        page.wait_for_url("**/accounts/profile/")
        expect(page.get_by_text("Please confirm your email address")).to_be_visible()
        check_page(page, "profile-unverified")

        # Local mode writes mail to files (docs/local-mode.md): open the link in it.
        page.goto(site.mail_link(EMAIL, "/accounts/verify/"))
        check_page(page, "verify-confirm")
        page.get_by_role("button", name="Confirm my email address").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Email verified")
        check_page(page, "verify-done")

    def test_logs_out_and_back_in(self, site, check_page) -> None:
        page = Member.page
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(site.url + "/")
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        check_page(page, "home-signed-out")

        page.goto(site.url + "/accounts/login/")
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("The email address or password is not right.")).to_be_visible()
        check_page(page, "login-error")

        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/accounts/profile/")
        expect(page.get_by_text("Please confirm your email address")).to_have_count(0)
        expect(page.get_by_text("Verified", exact=True)).to_be_visible()

    def test_edits_the_profile(self, site, check_page) -> None:
        page = Member.page
        page.get_by_role("textbox", name="Display name").fill("Nova Stellar")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Your profile is saved.")).to_be_visible()
        page.reload()
        assert page.get_by_role("textbox", name="Display name").input_value() == "Nova Stellar"
        check_page(page, "profile")

    def test_uploads_an_avatar_and_sees_it_processed(self, site, check_page) -> None:
        """Upload a picture on the profile page; the avatar job's result is shown there.

        Written against the issue's description (a file input on the profile page, then
        the processed picture shown). Until the avatar upload exists this step is
        skipped, saying why; it skips only when the profile page has no file input.
        """
        page = Member.page
        page.goto(site.url + "/accounts/profile/")
        upload = page.locator("input[type=file]")
        if upload.count() == 0:
            pytest.skip("the profile page has no avatar file input yet (the avatar job)")
        upload.first.set_input_files(
            files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
        )
        upload.first.locator("xpath=ancestor::form").locator("[type=submit]").first.click()
        page.wait_for_load_state()
        check_page(page, "avatar-uploaded")

        # The worker makes the picture the site shows; reload until it is there.
        deadline = time.monotonic() + 60
        while True:
            page.goto(site.url + "/accounts/profile/")
            avatar = page.locator("main img[alt*=avatar i], main img[class*=avatar]")
            if avatar.count() and avatar.first.evaluate("i => i.complete && i.naturalWidth > 0"):
                break
            assert time.monotonic() < deadline, "the processed avatar never appeared"
            page.wait_for_timeout(1000)
        check_page(page, "profile-with-avatar")
        shown = page.request.get(urljoin(page.url, avatar.first.get_attribute("src")))
        assert shown.ok
        from PIL import Image

        picture = Image.open(io.BytesIO(shown.body()))
        assert not picture.getexif(), "the avatar still carries the photo's metadata"

    def test_exports_their_data_and_downloads_it(self, site, check_page, tmp_path) -> None:
        page = Member.page
        page.goto(site.url + "/accounts/profile/")
        page.get_by_role("link", name="My jobs").first.click()
        page.wait_for_url("**/jobs/")
        check_page(page, "jobs-empty")
        page.get_by_role("button", name="Export my data").click()
        page.wait_for_url("**/jobs/*/")

        # job.js follows the job live: the link appears when the worker is done.
        download_link = page.get_by_role("link", name="Download the result")
        download_link.wait_for(state="visible", timeout=60_000)
        expect(page.get_by_role("status")).to_have_text("Done")
        check_page(page, "job-done")
        with page.expect_download(timeout=TIMEOUT_MS) as started:
            download_link.click()
        path = tmp_path / "export.zip"
        started.value.save_as(path)

        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
            assert "profile.json" in names, names
            profile = json.loads(archive.read("profile.json"))
        flat = json.dumps(profile)
        assert EMAIL in flat
        assert "Nova Stellar" in flat
        assert "argon2" not in flat  # never the password hash

        page.goto(site.url + "/jobs/")
        # One export, done (the avatar step may have left a job of its own in the list).
        row = page.locator("tbody tr").filter(has=page.get_by_role("link", name="Export my data"))
        expect(row).to_have_count(1)
        expect(row.get_by_text("Done")).to_be_visible()
        check_page(page, "jobs")

    def test_sees_sessions_and_ends_another_devices_session(
        self, site, new_context, check_page
    ) -> None:
        page = Member.page
        phone = Member.other_device = new_context(PHONE).new_page()
        _log_in(phone, site, Member.password)

        page.goto(site.url + "/accounts/sessions/")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(page.get_by_text("This device")).to_be_visible()
        check_page(page, "sessions")
        page.locator("tbody tr:not(.is-current)").get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("That session is signed out.")).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(1)
        check_page(page, "sessions-one-ended")

        # The other browser is signed out on its next request.
        phone.goto(site.url + "/accounts/profile/")
        phone.wait_for_url("**/accounts/login/?next=/accounts/profile/")
        check_page(phone, "login")

    def test_changes_the_password(self, site, check_page) -> None:
        page = Member.page
        # Sign the second browser in again: changing the password signs it out.
        _log_in(Member.other_device, site, PASSWORD)
        page.goto(site.url + "/accounts/profile/")
        page.get_by_role("link", name="Change password").click()
        check_page(page, "password-change")
        page.get_by_label("Old password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url("**/accounts/profile/")
        expect(
            page.get_by_text("Your password is changed. 1 other session signed out.")
        ).to_be_visible()
        check_page(page, "profile-password-changed")
        Member.password = NEW_PASSWORD

        Member.other_device.goto(site.url + "/accounts/profile/")
        Member.other_device.wait_for_url("**/accounts/login/**")
        _log_in(Member.other_device, site, NEW_PASSWORD)

    def test_deletes_the_account(self, site, check_page) -> None:
        page = Member.page
        page.goto(site.url + "/accounts/profile/")
        page.get_by_role("link", name="Delete account").click()
        check_page(page, "delete")
        page.get_by_label("Your password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Delete my account").click()
        expect(page.get_by_role("heading", name="Your account has been deleted")).to_be_visible()
        check_page(page, "deleted")

        # Gone everywhere: the other browser is signed out, the password opens nothing.
        Member.other_device.goto(site.url + "/accounts/profile/")
        Member.other_device.wait_for_url("**/accounts/login/**")
        page.goto(site.url + "/accounts/login/")
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("The email address or password is not right.")).to_be_visible()


def _photo() -> bytes:
    """Return a JPEG photo with EXIF metadata (a camera model), as a phone makes."""
    from PIL import Image

    picture = Image.new("RGB", (1200, 900), (40, 90, 160))
    exif = Image.Exif()
    exif[0x0110] = "Nebula Test Camera"  # Model
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif)
    return out.getvalue()
