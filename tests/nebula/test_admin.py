"""The admin site answers every URL under ``/admin/`` with a real page or a 404, never a 500."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import include, path

from accounts import services
from nebula import views
from tests.accounts.conftest import PASSWORD, log_in_staff, pass_second_factor

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
