"""Each account journey, end to end through HTTP, as a person does it."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts import selectors, services
from accounts.models import EmailClaim, Session, User
from accounts.session_keys import public_id, stored_id
from tests.accounts.conftest import PASSWORD, log_in

NEW_PASSWORD = "a whole new secret phrase"


def _link(message) -> str:
    return re.search(r"https?://testserver(/\S+)", message.body).group(1)


def _sign_up(client: Client, email: str = "bea@example.com", **extra) -> object:
    data = {"email": email, "display_name": "Bea", "password1": PASSWORD, "password2": PASSWORD}
    return client.post("/accounts/signup/", {**data, **extra})


# --- sign up and verification ---------------------------------------------


def test_sign_up_creates_the_account_signs_in_and_mails_a_verification_link(client) -> None:
    response = _sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    user = selectors.user_get_by_email(email="bea@example.com")
    assert user.display_name == "Bea"
    assert user.password.startswith("argon2$argon2id$")
    assert not user.email_verified
    [message] = mail.outbox
    assert message.to == ["bea@example.com"]
    page = client.get("/accounts/profile/")
    assert b"Please confirm your email address" in page.content


def test_verification_link_works_once(client) -> None:
    _sign_up(client)
    link = _link(mail.outbox[0])

    first = client.get(link)
    again = client.get(link)

    assert first.status_code == 200
    assert selectors.user_get_by_email(email="bea@example.com").email_verified
    assert again.status_code == 400
    assert b"used already" in again.content
    assert b"Please confirm your email address" not in client.get("/accounts/profile/").content


def test_verification_link_expires(client, settings) -> None:
    _sign_up(client)
    settings.NEBULA_EMAIL_LINK_MAX_AGE = -1

    response = client.get(_link(mail.outbox[0]))

    assert response.status_code == 400
    assert b"expired" in response.content
    assert not selectors.user_get_by_email(email="bea@example.com").email_verified


def test_tampered_verification_link_is_refused(client) -> None:
    _sign_up(client)
    link = _link(mail.outbox[0])

    response = client.get(link[:-3] + "abc/")

    assert response.status_code == 400
    assert b"not valid" in response.content


def test_verification_link_can_be_sent_again(signed_in) -> None:
    response = signed_in.post("/accounts/verify/resend/")

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert signed_in.get(_link(mail.outbox[0])).status_code == 200


def test_email_is_unique_ignoring_case_and_spaces(client, user) -> None:
    response = _sign_up(client, email="  ANN@Example.COM ")

    assert response.status_code == 200
    assert b"already exists" in response.content
    assert User.count() == 1


def test_unverified_users_cannot_start_jobs_until_they_verify(client) -> None:
    _sign_up(client)
    user = selectors.user_get_by_email(email="bea@example.com")
    assert not user.can_start_jobs
    client.get(_link(mail.outbox[0]))
    assert selectors.user_get(user_id=user.id).can_start_jobs


# --- log in and out -------------------------------------------------------


def test_log_in_rotates_the_session_key(client, user) -> None:
    client.get("/accounts/login/")
    client.session.save()  # a session from before the login (e.g. a planted one)
    before = client.cookies["sessionid"].value

    response = log_in(client)

    after = client.cookies["sessionid"].value
    assert response.status_code == 302
    assert after != before
    assert after.startswith(user.id + ".")
    assert Session.count(stored_id(before)) == 0


def test_wrong_password_gets_one_generic_error(client, user) -> None:
    response = log_in(client, password="not the password")

    assert response.status_code == 200
    assert b"The email address or password is not right." in response.content
    assert log_in(client, email="nobody@example.com").content.count(b"not right") == 1


def test_keep_me_signed_in_chooses_the_session_lifetime(client, user, settings) -> None:
    log_in(client)
    browser_cookie = client.cookies["sessionid"]
    assert browser_cookie["max-age"] == ""  # ends with the browser

    other = Client()
    log_in(other, remember="on")
    assert other.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE


def test_log_in_follows_next_on_this_site_only(client, user) -> None:
    assert log_in(client, next="/accounts/sessions/")["Location"] == "/accounts/sessions/"
    other = Client()
    assert log_in(other, next="https://evil.example.com/")["Location"] == "/accounts/profile/"
    third = Client()
    assert log_in(third, next="//evil.example.com/x")["Location"] == "/accounts/profile/"


def test_pages_for_members_send_visitors_to_log_in(client) -> None:
    response = client.get("/accounts/profile/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_log_out_is_a_post_and_ends_the_session(signed_in) -> None:
    key = signed_in.cookies["sessionid"].value

    assert signed_in.get("/accounts/logout/").status_code == 405
    response = signed_in.post("/accounts/logout/")

    assert response.status_code == 302
    assert Session.count(stored_id(key)) == 0
    assert signed_in.get("/accounts/profile/").status_code == 302


def test_inactive_user_cannot_log_in(client, user, superuser) -> None:
    services.user_admin_update(
        actor=superuser, user=user, expected_version=user.version, changes={"is_active": False}
    )

    response = log_in(client)

    assert response.status_code == 200
    assert b"not right" in response.content


def test_deactivation_ends_every_session_at_its_next_request(signed_in, user, superuser) -> None:
    services.user_admin_update(
        actor=superuser, user=user, expected_version=user.version, changes={"is_active": False}
    )

    response = signed_in.get("/accounts/profile/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_deactivation_takes_effect_even_if_the_session_item_survives(signed_in, user) -> None:
    # Not through the service: the session rows stay, the user row changes.
    user.update(actions=[User.is_active.set(False)], add_version_condition=False)

    assert signed_in.get("/accounts/profile/").status_code == 302


# --- passwords ------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(signed_in, user) -> None:
    elsewhere = Client()
    log_in(elsewhere)

    response = signed_in.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert signed_in.get("/accounts/profile/").status_code == 200
    assert elsewhere.get("/accounts/profile/").status_code == 302
    assert log_in(Client(), password=NEW_PASSWORD).status_code == 302


def test_password_change_ends_other_sessions_even_without_the_index(signed_in, user) -> None:
    elsewhere = Client()
    log_in(elsewhere)
    # Only the password changes (as if the session clean-up had failed).
    services.user_set_password(user=user, password=NEW_PASSWORD)

    assert elsewhere.get("/accounts/profile/").status_code == 302


def test_password_change_refuses_a_wrong_old_password(signed_in) -> None:
    response = signed_in.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content


def test_password_reset_never_says_whether_an_account_exists(client, user) -> None:
    known = client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_password_reset_link_sets_a_new_password_once(client, user) -> None:
    other = Client()
    log_in(other)
    client.post("/accounts/password/reset/", {"email": "ANN@example.com "})
    link = _link(mail.outbox[0])

    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert "set-password" in form.redirect_chain[-1][0]
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert log_in(Client(), password=NEW_PASSWORD).status_code == 302
    assert other.get("/accounts/profile/").status_code == 302  # old sessions ended

    again = Client().get(link, follow=True)
    assert again.status_code == 400
    assert b"reset link can" in again.content


def test_password_reset_link_expires(client, user, settings) -> None:
    client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    settings.PASSWORD_RESET_TIMEOUT = -1

    response = client.get(_link(mail.outbox[0]), follow=True)

    assert response.status_code == 400


def test_tampered_password_reset_link_is_refused(client, user) -> None:
    client.post("/accounts/password/reset/", {"email": "ann@example.com"})
    link = _link(mail.outbox[0])

    response = client.get(link.replace("/password/reset/", "/password/reset/x"), follow=True)

    assert response.status_code == 400


# --- profile and email ----------------------------------------------------


def _version_on_page(client: Client) -> str:
    page = client.get("/accounts/profile/")
    return re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()


def test_profile_change_saves_the_display_name(signed_in, user) -> None:
    response = signed_in.post(
        "/accounts/profile/",
        {"action": "profile", "display_name": "Annie", "version": _version_on_page(signed_in)},
    )

    assert response.status_code == 302
    assert selectors.user_get(user_id=user.id).display_name == "Annie"


def test_two_concurrent_profile_edits_one_wins_the_other_is_told_to_retry(signed_in, user) -> None:
    version = _version_on_page(signed_in)  # both tabs opened the page

    first = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "From A", "version": version}
    )
    second = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "From B", "version": version}
    )

    assert first.status_code == 302
    assert second.status_code == 400
    assert b"reload the page and try again" in second.content
    assert selectors.user_get(user_id=user.id).display_name == "From A"


def test_email_change_takes_effect_when_the_new_address_is_confirmed(signed_in, user) -> None:
    response = signed_in.post(
        "/accounts/profile/",
        {"action": "email", "new_email": "ann.new@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["ann.new@example.com"]
    assert selectors.user_get(user_id=user.id).email == "ann@example.com"

    confirmed = signed_in.get(_link(message))

    assert confirmed.status_code == 200
    changed = selectors.user_get(user_id=user.id)
    assert changed.email == "ann.new@example.com"
    assert changed.email_verified
    assert EmailClaim.count("ann@example.com") == 0
    assert EmailClaim.get("ann.new@example.com").user_id == user.id
    assert signed_in.get(_link(message)).status_code == 400  # once only
    assert log_in(Client(), email="ann.new@example.com").status_code == 302


def test_email_change_to_a_taken_address_changes_nothing(signed_in, user, make_user) -> None:
    signed_in.post(
        "/accounts/profile/",
        {"action": "email", "new_email": "cat@example.com", "password": PASSWORD},
    )
    make_user(email="cat@example.com")

    response = signed_in.get(_link(mail.outbox[0]))

    assert response.status_code == 400
    assert selectors.user_get(user_id=user.id).email == "ann@example.com"
    assert EmailClaim.get("cat@example.com").user_id != user.id
    assert EmailClaim.get("ann@example.com").user_id == user.id


def test_email_change_needs_the_password(signed_in) -> None:
    response = signed_in.post(
        "/accounts/profile/", {"action": "email", "new_email": "x@example.com", "password": "no"}
    )

    assert response.status_code == 400
    assert b"That password is not right." in response.content
    assert mail.outbox == []


# --- sessions -------------------------------------------------------------


def test_sessions_page_lists_every_session_with_device_and_this_one_marked(signed_in) -> None:
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    log_in(phone)

    page = signed_in.get("/accounts/sessions/")

    assert page.status_code == 200
    assert b"Firefox on Linux" in page.content
    assert b"Safari on iPhone" in page.content
    assert page.content.count(b"This device") == 1
    assert b"127.0.0.1" in page.content


def test_ending_one_session_signs_that_browser_out(signed_in, user) -> None:
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1")
    log_in(phone)
    phone_key = phone.cookies["sessionid"].value

    response = signed_in.post(
        "/accounts/sessions/end/", {"session_id": public_id(stored_id(phone_key))}
    )

    assert response.status_code == 302
    assert phone.get("/accounts/profile/").status_code == 302
    assert signed_in.get("/accounts/profile/").status_code == 200


def test_this_session_is_ended_by_logging_out_not_from_the_list(signed_in) -> None:
    key = signed_in.cookies["sessionid"].value

    response = signed_in.post(
        "/accounts/sessions/end/", {"session_id": public_id(stored_id(key))}, follow=True
    )

    assert b"To end this session, log out." in response.content
    assert signed_in.get("/accounts/profile/").status_code == 200


def test_a_session_of_another_user_cannot_be_ended(signed_in, make_user) -> None:
    make_user(email="cat@example.com")
    cat = Client()
    log_in(cat, email="cat@example.com")

    signed_in.post(
        "/accounts/sessions/end/",
        {"session_id": public_id(stored_id(cat.cookies["sessionid"].value))},
    )

    assert cat.get("/accounts/profile/").status_code == 200


def test_sign_out_everywhere_else(signed_in, user) -> None:
    others = [Client() for _ in range(3)]
    for other in others:
        log_in(other)

    signed_in.post("/accounts/sessions/end-others/")

    assert [o.get("/accounts/profile/").status_code for o in others] == [302, 302, 302]
    assert signed_in.get("/accounts/profile/").status_code == 200
    assert len(selectors.session_list_for_user(user_id=user.id)) == 1


# --- delete account -------------------------------------------------------


def test_delete_account_removes_user_claim_and_every_session(signed_in, user) -> None:
    other = Client()
    log_in(other)

    wrong = signed_in.post("/accounts/delete/", {"password": "nope"})
    assert wrong.status_code == 200
    assert User.count(user.id) == 1

    response = signed_in.post("/accounts/delete/", {"password": PASSWORD})

    assert response.status_code == 200
    assert b"2 sessions" in response.content
    assert User.count(user.id) == 0
    assert EmailClaim.count("ann@example.com") == 0
    assert selectors.session_list_for_user(user_id=user.id) == []
    assert other.get("/accounts/profile/").status_code == 302
    # The address is free again.
    assert services.user_create(email="ann@example.com", password=PASSWORD)


@pytest.mark.parametrize("path", ["/accounts/profile/", "/accounts/sessions/", "/accounts/delete/"])
def test_member_pages_render_for_a_signed_in_user(signed_in, path) -> None:
    response = signed_in.get(path)

    assert response.status_code == 200
    assert b"<h1" in response.content
