"""The admin in a real browser: the dashboard (within the CSP, light and dark), and an admin
doing the jobs and contact tasks, with the audit entries they leave, at phone and desktop widths.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot, set_up_second_factor


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


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
    set_up_second_factor(page)
    page.goto(site_url + "/admin/")

    charts = page.get_by_role("img", name="Sign-ups per day")
    expect(charts).to_be_visible()
    box = charts.bounding_box()
    assert box is not None
    assert box["width"] > 300
    expect(page.get_by_role("img", name="Jobs by status")).to_be_visible()
    # The bars take their colour from the stylesheet (no inline style is allowed).
    fill = page.locator("svg.nebula-chart rect.nebula-chart-bar").first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill not in ("", "none", "rgb(0, 0, 0)")
    screenshot(page, f"admin-dashboard-{scheme}")
    assert violations == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_an_admin_retries_a_job_and_answers_a_contact_message_then_sees_the_audit_log(
    page_at, site_url, size
) -> None:
    from accounts import services
    from contact import services as contact_services
    from datalayer.jobs import JobKind, job_create, job_fail
    from tests.accounts.conftest import PASSWORD

    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    owner = services.user_create(email="owner@example.com", password=PASSWORD)
    for n in range(26):  # more than one page of failed jobs
        job, _ = job_create(
            owner_id=owner.id,
            kind=JobKind.EXPORT,
            params={},
            idempotency_key=f"{size}-{n}",
            run_seconds=60,
        )
        job_fail(job_id=job.id, reason=f"The export stopped half-way ({n}).")
    contact_services.message_create(
        name="Ann", email="ann@example.com", subject="Where is my export?", message="Hello?"
    )
    page = page_at(PHONE if size == "phone" else DESKTOP)
    page.goto(site_url + "/accounts/login/?next=/admin/")
    page.get_by_label("Email address").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    set_up_second_factor(page)
    page.goto(site_url + "/admin/")

    # Jobs: the index lists them; the failed list pages; a job's page; Retry.
    page.get_by_role("link", name="Jobs", exact=True).first.click()
    page.wait_for_url("**/admin/jobs/")
    expect(page.get_by_text("Failed jobs, latest first")).to_be_visible()
    assert page.locator("#result_list tbody tr").count() == 25
    screenshot(page, f"admin-jobs-list-{size}")
    assert _fits(page)  # the table scrolls inside its box on a phone
    page.get_by_role("link", name="Next page").click()
    assert page.locator("#result_list tbody tr").count() == 1
    page.get_by_role("link", name="First page").click()
    page.locator("#result_list tbody th a").first.click()
    page.wait_for_url("**/admin/jobs/*/")
    expect(page.get_by_text("The export stopped half-way").first).to_be_visible()
    screenshot(page, f"admin-job-detail-{size}")
    assert _fits(page)
    page.get_by_role("button", name="Retry").click()
    # Without a jobs API here the job cannot start again; either way the retry is recorded.
    page.locator(".messagelist li").first.wait_for()
    assert page.get_by_text("queued again").or_(page.get_by_text("could not be started")).count()
    screenshot(page, f"admin-job-retried-{size}")

    # Contact: reply by mail, then mark handled.
    page.goto(site_url + "/admin/")
    page.get_by_role("link", name="Contact messages", exact=True).first.click()
    page.get_by_role("link", name="Where is my export?").click()
    page.get_by_label("Subject").fill("Re: your export")
    page.get_by_label("Reply").fill("It is ready now.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply to ann@example.com is recorded")).to_be_visible()
    page.get_by_role("button", name="Mark handled").click()
    expect(page.get_by_text("is marked handled")).to_be_visible()
    screenshot(page, f"admin-contact-handled-{size}")

    # The audit log shows all three, newest first.
    page.goto(site_url + "/admin/audit/")
    actions = page.locator("#result_list tbody td:nth-child(4) code").all_inner_texts()
    assert actions[:3] == ["contact_message.handle", "contact_message.reply", "job.retry"]
    screenshot(page, f"admin-audit-{size}")
    assert page.locator("#result_list").evaluate("t => t.closest('.nebula-scroll') !== null")
