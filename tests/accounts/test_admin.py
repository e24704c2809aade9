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


def test_the_index_lists_users_sessions_and_the_audit_log(admin_client) -> None:
    index = admin_client.get("/admin/").content.decode()

    assert '<a class="section" href="/admin/accounts/users/">Users</a>' in index
    assert '<a class="section" href="/admin/accounts/users/">Sessions</a>' in index
    assert '<a class="section" href="/admin/audit/">Audit log</a>' in index
    assert "Every admin action: who, what, when" in index
    assert "Signed-in browsers: device, IP address" in index


def test_staff_find_a_user_by_address_in_any_case(admin_client, user) -> None:
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

    # The whole id and a newline: `re.match` with `$` would accept it.
    response = admin_client.get(f"/admin/accounts/users/{user.id}%0A/")

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


# The users list, its pages, filters and searches.


def _page_rows(html: str) -> list[str]:
    """Return the user ids a list page shows, in order."""
    return re.findall(r'<th scope="row"><a href="/admin/accounts/users/([0-9a-f]{32})/">', html)


def _next_link(html: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', html)
    return found and found.group(1).replace("&amp;", "&")


def _walk(client: Client, query: str = "") -> list[list[str]]:
    """Follow "Next page" from the first page to the last; return each page's user ids."""
    pages = []
    url: str | None = "/admin/accounts/users/" + query
    while url is not None:
        response = client.get(url if url.startswith("/") else "/admin/accounts/users/" + url)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(_page_rows(html))
        url = _next_link(html)
        assert len(pages) < 50, "the pages never end"
    return pages


@pytest.fixture
def small_pages(monkeypatch) -> int:
    from accounts import admin as accounts_admin

    monkeypatch.setattr(accounts_admin, "USERS_PER_PAGE", 3)
    return 3


def test_the_users_list_is_for_staff_only(client, signed_in, admin_client, user) -> None:
    anonymous = client.get("/admin/accounts/users/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    assert client.get("/admin/accounts/users/", follow=True).redirect_chain[-1][0] == (
        "/accounts/login/?next=/admin/accounts/users/"
    )

    refused = signed_in.get("/admin/accounts/users/", follow=True)
    assert refused.status_code == 403
    assert b"no access to the admin" in refused.content
    assert user.email.encode() not in refused.content.replace(b"signed in as ann", b"")

    listed = admin_client.get("/admin/accounts/users/")
    assert listed.status_code == 200
    assert user.id in _page_rows(listed.content.decode())


def test_the_users_list_pages_through_the_whole_table_once(
    admin_client, make_user, staff, small_pages
) -> None:
    made = {make_user(email=f"u{n}@example.com").id for n in range(8)} | {staff.id}

    pages = _walk(admin_client)

    assert len(pages) >= 3
    assert all(len(page) <= small_pages for page in pages)
    seen = [user_id for page in pages for user_id in page]
    assert sorted(seen) == sorted(made)  # every user, each exactly once


def test_a_filtered_page_may_be_short_yet_offers_the_next_page(
    admin_client, make_user, staff, small_pages
) -> None:
    for n in range(12):
        make_user(email=f"u{n}@example.com")
    helper = make_user(email="helper@example.com", is_staff=True)

    pages = _walk(admin_client, "?is_staff=yes")

    # 14 users, 3 read per page: 5 pages, at most 2 of them with a staff member.

    assert sorted(user_id for page in pages for user_id in page) == sorted([staff.id, helper.id])
    assert any(page == [] for page in pages[:-1])  # an empty page, yet a "Next page" after it
    assert b"a filtered Scan" in admin_client.get("/admin/accounts/users/").content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?is_staff=yes", {"root"}),
        ("?is_staff=no", {"ann", "off", "new"}),
        ("?is_active=no", {"off"}),
        ("?is_active=yes&email_verified=no", {"ann", "root"}),
        ("?email_verified=yes", {"new"}),
        ("?q=ne&match=prefix", {"new"}),
        ("?q=Ann&match=name", {"ann"}),
        ("?q=nn&match=name&is_active=yes", {"ann"}),
    ],
)
def test_the_users_list_filters_and_searches(admin_client, make_user, query, expected) -> None:
    people = {
        "root": selectors.user_get_by_email(email="root@example.com"),
        "ann": make_user(display_name="Ann"),
        "off": make_user(email="off@example.com", display_name="Offline"),
        "new": make_user(email="new@example.com", email_verified=True),
    }
    services.user_admin_set_active(actor=people["root"], user=people["off"], active=False)

    shown = {user_id for page in _walk(admin_client, query) for user_id in page}

    assert shown == {people[name].id for name in expected}


def test_an_exact_search_by_user_id_opens_the_user(admin_client, user) -> None:
    response = admin_client.get("/admin/accounts/users/", {"q": user.id.upper(), "match": "exact"})

    assert response["Location"] == f"/admin/accounts/users/{user.id}/"


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "eyJpZCI6ICJ4In0",  # {"id": "x"}: not a user id
        "eyJpZCI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZXZpbCI6MX0",  # an extra field
        "W10",  # []
        "é" * 10,
        "A" * 600,
    ],
)
def test_a_tampered_cursor_is_a_400_with_a_way_back(admin_client, user, cursor) -> None:
    response = admin_client.get("/admin/accounts/users/", {"cursor": cursor})

    assert response.status_code == 400
    assert b"End of the table" not in response.content  # no page was read
    assert b"That page link is not valid" in response.content or b"Ensure this value" in (
        response.content
    )
    assert b'href="/admin/accounts/users/">First page' in response.content or len(cursor) > 512


# Every action through HTTP with CSRF, and the audit entry it writes.


def _entries(**kwargs) -> list:
    from nebula.audit import audit_list

    return audit_list(**kwargs).entries


def _token(client: Client) -> dict[str, str]:
    return {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}


@pytest.fixture
def root(staff) -> Client:
    """The superuser ``staff``, in a CSRF-checking browser."""
    return _csrf_client("root@example.com")


def test_an_action_without_the_csrf_token_is_refused(root, user) -> None:
    response = root.post(f"/admin/accounts/users/{user.id}/deactivate/")

    assert response.status_code == 403
    assert selectors.user_get(user_id=user.id).is_active
    assert _entries() == []


def test_deactivate_ends_every_session_at_once_and_is_audited(root, staff, user) -> None:
    ann = Client()
    log_in(ann)
    page = root.get(f"/admin/accounts/users/{user.id}/")
    assert b"Deactivate (ends every session)" in page.content

    response = root.post(f"/admin/accounts/users/{user.id}/deactivate/", _token(root))

    assert response.status_code == 302
    assert not selectors.user_get(user_id=user.id).is_active
    assert selectors.session_list_for_user(user_id=user.id) == []
    assert ann.get("/accounts/profile/").status_code == 302
    assert (
        b"Deactivated ann@example.com; ended 1 session." in root.get(response["Location"]).content
    )
    [entry] = _entries(entity=("user", user.id))
    assert (entry.actor_id, entry.actor_label, entry.action) == (
        staff.id,
        staff.email,
        "user.deactivate",
    )
    assert (entry.before, entry.after) == ({"is_active": True}, {"is_active": False})
    assert entry.entity_label == "ann@example.com"


def test_reactivate_lets_the_user_sign_in_again_and_is_audited(root, staff, user) -> None:
    services.user_admin_set_active(actor=staff, user=user, active=False)
    assert b"Reactivate" in root.get(f"/admin/accounts/users/{user.id}/").content

    response = root.post(f"/admin/accounts/users/{user.id}/reactivate/", _token(root))

    assert response.status_code == 302
    assert log_in(Client()).status_code == 302
    newest = _entries(entity=("user", user.id))[0]
    assert (newest.action, newest.before, newest.after) == (
        "user.reactivate",
        {"is_active": False},
        {"is_active": True},
    )


def test_send_a_password_reset_mails_a_working_link_and_is_audited(root, staff, user) -> None:
    from django.core import mail

    response = root.post(f"/admin/accounts/users/{user.id}/password-reset/", _token(root))

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    link = re.search(r"http://\S+/accounts/password/reset/\S+/", message.body).group(0)
    assert Client().get(link.split("testserver", 1)[1], follow=True).status_code == 200
    [entry] = _entries(actor_id=staff.id)
    assert (entry.action, entry.entity_id, entry.after) == (
        "user.password_reset",
        user.id,
        {"reset_link_sent_to": "ann@example.com"},
    )


def test_end_all_sessions_is_audited_with_how_many_ended(root, staff, user) -> None:
    for _ in range(2):
        log_in(Client())

    response = root.post(f"/admin/accounts/users/{user.id}/end-sessions/", _token(root))

    assert response.status_code == 302
    assert selectors.session_list_for_user(user_id=user.id) == []
    [entry] = _entries(entity=("user", user.id))
    assert (entry.action, entry.before, entry.after) == (
        "user.end_sessions",
        {"sessions": 2},
        {"sessions": 0},
    )


def test_delete_asks_first_then_removes_as_self_deletion_does(root, staff, user) -> None:
    ann = Client()
    log_in(ann)
    url = f"/admin/accounts/users/{user.id}/delete/"

    confirm = root.get(url)
    assert confirm.status_code == 200
    assert b"1 session (signed out at once)" in confirm.content
    assert selectors.user_get(user_id=user.id) is not None

    response = root.post(url, _token(root))

    assert response["Location"] == "/admin/accounts/users/"
    assert selectors.user_get(user_id=user.id) is None
    assert selectors.user_get_by_email(email="ann@example.com") is None  # the claim is gone
    assert ann.get("/accounts/profile/").status_code == 302
    assert (
        b"Deleted ann@example.com, its address claim and 1 session."
        in root.get("/admin/accounts/users/").content
    )
    [entry] = _entries(entity=("user", user.id))
    assert (entry.action, entry.actor_id, entry.after) == ("user.delete", staff.id, {})
    assert entry.before["email"] == "ann@example.com"
    assert entry.before["display_name"] == "Ann"


def test_an_edit_is_audited_with_the_changed_fields_before_and_after(root, staff, user) -> None:
    url = f"/admin/accounts/users/{user.id}/"
    page = root.get(url)

    response = root.post(
        url, _form_data(page.content, display_name="Ann B", is_active="on", email_verified="on")
    )

    assert response.status_code == 302
    [entry] = _entries(entity=("user", user.id))
    assert (entry.action, entry.actor_id) == ("user.change", staff.id)
    assert entry.before == {"display_name": "Ann", "email_verified": False}
    assert entry.after == {"display_name": "Ann B", "email_verified": True}


def test_a_failed_change_writes_no_audit_entry(root, user) -> None:
    url = f"/admin/accounts/users/{user.id}/"
    page = root.get(url)
    services.user_update_profile(user=user, expected_version=user.version, display_name="New")

    response = root.post(url, _form_data(page.content, display_name="Old", is_active="on"))

    assert response.status_code == 400
    assert _entries() == []


@pytest.mark.parametrize(
    ("action", "method"),
    [
        ("deactivate/", "post"),
        ("password-reset/", "post"),
        ("end-sessions/", "post"),
        ("delete/", "post"),
        ("delete/", "get"),
    ],
)
def test_staff_acting_on_a_superuser_are_refused_logged_and_not_audited(
    helper, make_user, caplog, action, method
) -> None:
    from django.core import mail

    target = make_user(email="boss@example.com", is_staff=True, is_superuser=True)
    boss = Client()
    log_in(boss, email="boss@example.com")
    before = _stored(target.id)
    helper.get(f"/admin/accounts/users/{target.id}/")  # the CSRF cookie
    caplog.set_level(logging.WARNING, logger="accounts.admin")

    url = f"/admin/accounts/users/{target.id}/{action}"
    response = helper.post(url, _token(helper)) if method == "post" else helper.get(url)

    assert response.status_code == 403
    assert b"only a superuser may change it" in response.content
    assert b"Yes, delete this user" not in response.content
    assert _stored(target.id) == before
    assert boss.get("/accounts/profile/").status_code == 200
    assert mail.outbox == []
    assert _entries() == []
    if method == "post":
        assert any(
            "was refused" in r.getMessage() and target.id in r.getMessage() for r in caplog.records
        )


def test_an_admin_cannot_deactivate_or_delete_their_own_account(root, staff) -> None:
    page = root.get(f"/admin/accounts/users/{staff.id}/")
    assert b"Deactivate" not in page.content
    assert b"Delete" not in page.content

    for action in ("deactivate/", "delete/"):
        response = root.post(f"/admin/accounts/users/{staff.id}/{action}", _token(root))
        assert response.status_code == 403

    assert selectors.user_get(user_id=staff.id).is_active
    assert _entries() == []
