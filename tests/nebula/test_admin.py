"""The admin site answers every URL under ``/admin/`` with a real page or a 404, never a 500."""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import include, path

from accounts import services
from contact import services as contact_services
from datalayer.calls import CallCount, counting_calls
from datalayer.counters import JOBS, SIGNUPS, Counter, counter_add, daily_name, status_name
from nebula import middleware, views
from tests.accounts.conftest import PASSWORD, log_in_staff, pass_second_factor
from tests.nebula.test_charts import SVG, parse

# Django's built-in admin URLs, and what the ORM-backed ones would be.
ADMIN_URLS = [
    "/admin/",
    "/admin/r/1/2/",
    "/admin/r/4/0123456789abcdef0123456789abcdef/",
    "/admin/password_change/",
    "/admin/password_change/done/",
    "/admin/jsi18n/",
    "/admin/autocomplete/",
    "/admin/autocomplete/?app_label=auth&model_name=user&field_name=groups&term=a",
    "/admin/login/",
    "/admin/auth/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/user/1/change/",
    "/admin/auth/group/",
    "/admin/accounts/",
    "/admin/sessions/",
    "/admin/no-such-page/",
    "/admin/no-such-page",
]


@pytest.fixture(params=["staff", "superuser"])
def staff_client(request) -> Client:
    services.user_create(
        email="root@example.com",
        password=PASSWORD,
        is_staff=True,
        is_superuser=request.param == "superuser",
    )
    client = Client(raise_request_exception=False)
    log_in_staff(client, email="root@example.com")
    return client


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_every_admin_url_answers_a_page_or_a_404(staff_client, url) -> None:
    response = staff_client.get(url)

    assert response.status_code in (200, 302, 404), response.content[:300]
    if response.status_code == 302:
        assert staff_client.get(response["Location"]).status_code == 200


def test_the_admins_password_pages_lead_to_the_sites_password_page(staff_client) -> None:
    for url in ("/admin/password_change/", "/admin/password_change/done/"):
        assert staff_client.get(url)["Location"] == "/accounts/password/"


# The site with the accounts pages mounted elsewhere (for the test below).
urlpatterns = [
    path("", views.home, name="home"),
    path("people/", include("accounts.urls")),
    path("contact/", include("contact.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
]


@pytest.mark.urls(__name__)
def test_the_password_link_is_the_accounts_url_wherever_it_is_mounted() -> None:
    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    client = Client()
    assert (
        client.post(
            "/people/login/", {"email": "root@example.com", "password": PASSWORD}
        ).status_code
        == 302
    )
    # The second factor's pages are mounted under people/ too.
    assert (
        client.get("/admin/password_change/", follow=True)
        .redirect_chain[-1][0]
        .startswith("/people/2fa/setup/")
    )
    pass_second_factor(client, "root@example.com")

    assert client.get("/admin/password_change/")["Location"] == "/people/password/"


def test_admin_logout_answers_a_page(staff_client) -> None:
    assert staff_client.post("/admin/logout/").status_code == 200


def test_an_orm_model_admin_is_refused_at_registration() -> None:
    with pytest.raises(ImproperlyConfigured, match="no SQL database"):
        admin.site.register(LogEntry)


def test_each_admin_page_has_a_description_of_its_own(staff_client) -> None:
    pages = ["/admin/", "/admin/accounts/users/", "/admin/audit/", "/admin/contact/messages/"]
    descriptions = []
    for url in pages:
        content = staff_client.get(url).content.decode()
        [description] = re.findall(r'<meta name="description" content="([^"]*)">', content)
        assert "Nebula admin" in description, url
        descriptions.append(description)

    assert len(set(descriptions)) == len(pages)


# ---- the dashboard on the index ----


def _index_as_staff() -> bytes:
    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    client = Client()
    log_in_staff(client, email="root@example.com")
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content


def _dashboard(content: bytes) -> ET.Element:
    """Return the dashboard section, parsed as XML (so every SVG in it is well-formed)."""
    start = content.index(b'<section class="nebula-dashboard"')
    end = content.index(b"</section>", start) + len(b"</section>")
    return parse(content[start:end])


def _numbers(figure: ET.Element) -> dict[str, str]:
    return {row.find("th").text: row.find("td").text for row in figure.iter("tr")}


def test_the_index_draws_the_counts_as_svg_with_the_numbers_as_text() -> None:
    today = datetime.now(UTC).date()
    counter_add(daily_name(SIGNUPS, today - timedelta(days=2)), 3)
    counter_add(status_name(JOBS, "running"), 4)
    contact_services.message_create(name="Ann", email="a@example.com", subject="Hi", message="x")

    content = _index_as_staff()

    assert (
        b"<script"
        not in content.split(b'<section class="nebula-dashboard"')[1].split(b"</section>")[0]
    )
    section = _dashboard(content)
    figures = {figure.get("id"): figure for figure in section.iter("figure")}
    assert set(figures) == {
        "dashboard-signups",
        "dashboard-sessions",
        "dashboard-status-contact",
        "dashboard-status-jobs",
    }
    for figure in figures.values():
        svg = figure.find(f"{SVG}svg")
        assert svg is not None
        assert svg.get("role") == "img"
    signups = _numbers(figures["dashboard-signups"])
    assert len(signups) == 30
    # The staff member signed up today: one; two days ago: three.
    assert signups[f"{today - timedelta(days=2):%Y-%m-%d}"] == "3"
    assert signups[f"{today:%Y-%m-%d}"] == "1"
    assert _numbers(figures["dashboard-status-contact"]) == {"new": "1", "handled": "0"}
    assert _numbers(figures["dashboard-status-jobs"])["running"] == "4"
    # The staff member's own sign-in started a session.
    assert list(_numbers(figures["dashboard-sessions"]).values()) == ["1"]


def test_the_dashboard_is_one_batch_read_and_never_a_scan(monkeypatch) -> None:
    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    client = Client()
    log_in_staff(client, email="root@example.com")
    seen: list[CallCount] = []

    @contextmanager
    def recording() -> Iterator[CallCount]:
        with counting_calls() as calls:
            seen.append(calls)
            yield calls

    # The access-log middleware's own count of the request's calls.
    monkeypatch.setattr(middleware, "counting_calls", recording)
    assert client.get("/admin/").status_code == 200

    [calls] = seen
    # The session and its user, the audit log's "my actions", then every count at once.
    assert sorted(calls.operations) == ["BatchGetItem", "BatchGetItem", "Query"]


def test_the_index_still_answers_when_the_counts_cannot_be_read() -> None:
    services.user_create(email="root@example.com", password=PASSWORD, is_staff=True)
    client = Client()
    log_in_staff(client, email="root@example.com")
    events = Counter._get_connection().connection.client.meta.events

    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "ValidationException"}}, "BatchGetItem")

    events.register("before-send.dynamodb.BatchGetItem", refuse)
    try:
        response = client.get("/admin/")
    finally:
        events.unregister("before-send.dynamodb.BatchGetItem", refuse)

    assert response.status_code == 200
    assert b"counts cannot be read right now" in response.content
