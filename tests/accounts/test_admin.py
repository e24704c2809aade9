"""Accounts in the Django admin: staff only, signing in through the rate-limited login."""

import logging
import re

import pytest
from django.test import Client

from accounts import selectors, services
from accounts.models import User
from tests.accounts.conftest import PASSWORD, log_in, log_in_staff, pass_second_factor


@pytest.fixture
def staff(make_user):
    return make_user(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(staff) -> Client:
    client = Client()
    log_in_staff(client, email="root@example.com")
    return client


def test_the_admin_sends_visitors_to_the_sites_login_page(client) -> None:
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"
    assert response.status_code == 200


def test_the_admin_has_no_password_form_of_its_own(client, user) -> None:
    response = client.post("/admin/login/", {"username": "ann@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/profile/").status_code == 302  # not signed in


def test_the_admins_login_is_rate_limited(client, staff, settings) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "login_account": "2/m"}
    for _ in range(2):
        log_in(client, email="root@example.com", password="wrong", next="/admin/")

    response = log_in(client, email="root@example.com", next="/admin/")

    assert response.status_code == 429


def test_a_signed_in_non_staff_user_is_told_they_have_no_access(signed_in) -> None:
    response = signed_in.get("/admin/", follow=True)

    assert response.status_code == 403
    assert b"no access to the admin" in response.content


def test_staff_find_a_user_by_address_in_any_case(admin_client, user) -> None:
    index = admin_client.get("/admin/")
    assert index.status_code == 200
    assert b"Accounts" in index.content

    found = admin_client.get("/admin/accounts/users/", {"q": "  ANN@example.com"})
    assert found.status_code == 302
    assert found["Location"] == f"/admin/accounts/users/{user.id}/"

    missing = admin_client.get("/admin/accounts/users/", {"q": "nobody@example.com"})
    assert b"No user has that address" in missing.content


def test_staff_deactivate_a_user_and_every_session_ends(admin_client, user) -> None:
    ann = Client()
    log_in(ann)
    page = admin_client.get(f"/admin/accounts/users/{user.id}/")
    assert page.status_code == 200
    assert b"Sessions (1)" in page.content
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()

    response = admin_client.post(
        f"/admin/accounts/users/{user.id}/",
        {"display_name": "Ann", "version": version, "email_verified": ""},
    )

    assert response.status_code == 302
    assert not selectors.user_get(user_id=user.id).is_active
    assert ann.get("/accounts/profile/").status_code == 302
    assert selectors.session_list_for_user(user_id=user.id) == []


def test_a_stale_admin_form_changes_nothing(admin_client, user) -> None:
    page = admin_client.get(f"/admin/accounts/users/{user.id}/")
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()
    services.user_update_profile(user=user, expected_version=int(version), display_name="New")

    response = admin_client.post(
        f"/admin/accounts/users/{user.id}/",
        {"display_name": "Old", "is_active": "on", "version": version},
    )

    assert response.status_code == 400
    assert b"changed since you opened the page" in response.content
    assert selectors.user_get(user_id=user.id).display_name == "New"


def test_a_display_name_with_a_line_break_is_a_field_error(admin_client, user) -> None:
    page = admin_client.get(f"/admin/accounts/users/{user.id}/")
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()

    response = admin_client.post(
        f"/admin/accounts/users/{user.id}/",
        {"display_name": "Ann\nBcc: eve@example.com", "is_active": "on", "version": version},
    )

    assert response.status_code == 400
    assert b"no line breaks" in response.content
    assert selectors.user_get(user_id=user.id).display_name == "Ann"


def test_staff_who_are_not_superusers_cannot_grant_staff(make_user, user) -> None:
    make_user(email="helper@example.com", is_staff=True)
    helper = Client()
    log_in_staff(helper, email="helper@example.com")
    page = helper.get(f"/admin/accounts/users/{user.id}/")
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()

    helper.post(
        f"/admin/accounts/users/{user.id}/",
        {"is_active": "on", "is_staff": "on", "is_superuser": "on", "version": version},
    )

    changed = selectors.user_get(user_id=user.id)
    assert not changed.is_staff
    assert not changed.is_superuser


def test_staff_end_every_session_of_a_user(admin_client, user) -> None:
    ann = Client()
    log_in(ann)

    response = admin_client.post(f"/admin/accounts/users/{user.id}/end-sessions/")

    assert response.status_code == 302
    assert ann.get("/accounts/profile/").status_code == 302


def test_an_unknown_user_is_a_404(admin_client) -> None:
    assert admin_client.get("/admin/accounts/users/" + "0" * 32 + "/").status_code == 404
    assert admin_client.get("/admin/accounts/users/x/").status_code == 404


def test_a_user_id_with_a_trailing_newline_is_a_404_without_a_read(
    admin_client, user, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="nebula.access")

    response = admin_client.get(f"/admin/accounts/users/{user.id[:31]}%0A/")

    assert response.status_code == 404
    [access] = [r for r in caplog.records if r.name == "nebula.access"]
    assert access.dynamodb_calls == 1  # the session and its user, nothing more


def test_admin_logout_signs_out(admin_client) -> None:
    response = admin_client.post("/admin/logout/")

    assert response.status_code == 200
    assert (
        admin_client.get("/admin/", follow=True)
        .redirect_chain[-1][0]
        .startswith("/accounts/login/")
    )


def test_staff_see_each_session_of_a_user_as_the_sessions_page_describes_it(
    admin_client, staff, user
) -> None:
    log_in(Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"))

    page = admin_client.get(f"/admin/accounts/users/{user.id}/").content.decode()
    own = admin_client.get(f"/admin/accounts/users/{staff.id}/").content.decode()

    assert "Sessions (1)" in page
    assert "Safari on iPhone" in page
    assert "127.0.0.1" in page
    assert "(this session)" not in page
    assert own.count("(this session)") == 1


def _csrf_client(email: str) -> Client:
    """A browser that sends CSRF tokens as a real one does, signed in as ``email``."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {
            "email": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content
    pass_second_factor(client, email)
    return client


def _form_data(page: bytes, **fields: str) -> dict[str, str]:
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    version = re.search(rb'name="version" value="(\d+)"', page).group(1).decode()
    return {"csrfmiddlewaretoken": token, "version": version, **fields}


def _stored(user_id: str) -> dict:
    return User.get(user_id, consistent_read=True).attribute_values


@pytest.fixture
def helper(make_user) -> Client:
    """A staff member who is not a superuser, in a CSRF-checking browser."""
    make_user(email="helper@example.com", is_staff=True)
    return _csrf_client("helper@example.com")


@pytest.mark.parametrize(
    "flags",
    [{"is_staff": True, "is_superuser": True}, {"is_staff": True}],
    ids=["superuser", "staff"],
)
def test_staff_cannot_change_a_staff_or_superuser_account(helper, make_user, flags) -> None:
    target = make_user(email="boss@example.com", display_name="Boss", **flags)
    boss = Client()
    log_in(boss, email="boss@example.com")
    before = _stored(target.id)
    url = f"/admin/accounts/users/{target.id}/"

    page = helper.get(url)
    assert page.status_code == 200
    assert b"only a superuser may change it or end its sessions" in page.content
    assert re.search(rb'<input type="text" name="display_name"[^>]* disabled', page.content)
    assert b"End every session of this user" not in page.content

    # A hand-made POST: deactivate and rename.
    refused = helper.post(url, _form_data(page.content, display_name="Pwned"))
    assert refused.status_code == 403
    assert b"only a superuser may change it" in refused.content

    ended = helper.post(
        f"{url}end-sessions/", {"csrfmiddlewaretoken": helper.cookies["csrftoken"].value}
    )
    assert ended.status_code == 403
    assert b"only a superuser may change it or end its sessions" in ended.content

    assert _stored(target.id) == before
    assert boss.get("/accounts/profile/").status_code == 200  # still signed in


def test_superusers_change_and_sign_out_staff(staff, make_user) -> None:
    target = make_user(email="helper@example.com", is_staff=True)
    helper = Client()
    log_in(helper, email="helper@example.com")
    root = _csrf_client("root@example.com")
    url = f"/admin/accounts/users/{target.id}/"

    page = root.get(url)
    assert b"only a superuser" not in page.content
    ended = root.post(
        f"{url}end-sessions/", {"csrfmiddlewaretoken": root.cookies["csrftoken"].value}
    )
    assert ended.status_code == 302
    assert helper.get("/accounts/profile/").status_code == 302  # signed out

    saved = root.post(url, _form_data(page.content, display_name="Helper", is_staff="on"))
    assert saved.status_code == 302
    changed = selectors.user_get(user_id=target.id)
    assert (changed.display_name, changed.is_active, changed.is_staff) == ("Helper", False, True)


def test_staff_still_manage_ordinary_users(helper, user) -> None:
    url = f"/admin/accounts/users/{user.id}/"
    page = helper.get(url)

    response = helper.post(url, _form_data(page.content, display_name="Ann B", is_active="on"))

    assert response.status_code == 302
    assert selectors.user_get(user_id=user.id).display_name == "Ann B"
