"""The admin index's dashboard in a real browser: drawn, within the CSP, light and dark."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.browser.conftest import DESKTOP, screenshot


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_dashboard_draws_its_charts_within_the_content_security_policy(
    page_at, site_url, scheme
) -> None:
    from accounts import services
    from contact import services as contact_services
    from datalayer.counters import JOBS, SIGNUPS, counter_add, daily_name, status_name
    from tests.accounts.conftest import PASSWORD

    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    today = datetime.now(UTC).date()
    for back in range(30):
        counter_add(daily_name(SIGNUPS, today - timedelta(days=back)), (back * 7) % 11)
    for status, count in (("queued", 2), ("running", 3), ("succeeded", 12), ("failed", 1)):
        counter_add(status_name(JOBS, status), count)
    contact_services.message_create(name="Ann", email="a@example.com", subject="Hi", message="x")
    page = page_at(DESKTOP, color_scheme=scheme)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site_url + "/accounts/login/?next=/admin/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Staff pass the second factor: set it up with the key shown for typing.
    page.wait_for_selector("#otp-key")
    key = page.locator("#otp-key").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    page.goto(site_url + "/admin/")

    charts = page.get_by_role("img", name="Sign-ups per day")
    assert charts.is_visible()
    box = charts.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert page.get_by_role("img", name="Jobs by status").is_visible()
    # The bars take their colour from the stylesheet (no inline style is allowed).
    fill = page.locator("svg.nebula-chart rect.nebula-chart-bar").first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill not in ("", "none", "rgb(0, 0, 0)")
    screenshot(page, f"admin-dashboard-{scheme}")
    assert violations == []
