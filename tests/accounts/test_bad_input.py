"""Bad input gets field errors and a 200/4xx, never a 500, and changes nothing."""

import re
import threading

import pytest
from django.core import mail
from django.test import Client

from accounts import selectors
from accounts.models import EmailClaim, User
from tests.accounts.conftest import PASSWORD, log_in

TEN_KB = "x" * 10_240
ONE_MB = "p" * 1_048_576

FORMS = {
    "/accounts/signup/": {
        "email": "new@example.com",
        "display_name": "New",
        "password1": PASSWORD,
        "password2": PASSWORD,
    },
    "/accounts/login/": {"email": "ann@example.com", "password": PASSWORD},
    "/accounts/password/reset/": {"email": "ann@example.com"},
}
MEMBER_FORMS = {
    "/accounts/password/": {
        "old_password": PASSWORD,
        "new_password1": "another long phrase",
        "new_password2": "another long phrase",
    },
    # The version is filled in from the page: a stale one would end every row
    # in the "changed somewhere else" error, whatever the bad value did.
    "/accounts/profile/": {"action": "profile", "display_name": "Ann Lee", "version": ""},
    "/accounts/delete/": {"password": PASSWORD},
}
BAD_VALUES = {"empty": "", "10 KB": TEN_KB, "NUL byte": "ab\x00cd"}
FORMS_IN_PAGES = ("form", "profile_form", "email_form")


# Fields where an empty value is fine.
OPTIONAL = {"display_name"}


def _cases(forms: dict) -> list:
    return [
        pytest.param(path, field, value, id=f"{path}:{field}:{name}")
        for path, data in forms.items()
        for field in data
        if field != "action"
        for name, value in BAD_VALUES.items()
        if not (field in OPTIONAL and value == "")
    ]


def _stored(user: User) -> dict:
    """Return the user's item as DynamoDB holds it."""
    return User.get(user.id, consistent_read=True).serialize()


def _version(client: Client) -> str:
    page = client.get("/accounts/profile/")
    return re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()


def _fill(client: Client, path: str, data: dict) -> dict:
    if path == "/accounts/profile/":
        return {**data, "version": data["version"] or _version(client)}
    return data


def _field_errors(response) -> set[str]:
    """Return the names of the fields the page's forms flag (``__all__``: the form)."""
    forms = [response.context.get(name) for name in FORMS_IN_PAGES]
    return {field for form in forms if form is not None for field in form.errors}


def _assert_refused(response, *fields: str) -> None:
    assert response.status_code in (200, 400), response.status_code
    assert b"errorlist" in response.content
    assert _field_errors(response) == set(fields)


@pytest.mark.parametrize("path", [*FORMS, *MEMBER_FORMS])
def test_the_rows_start_from_values_each_form_accepts(client, signed_in, user, path) -> None:
    # Otherwise a bad-value row could be refused for another reason than its value.
    browser = signed_in if path in MEMBER_FORMS else client
    data = _fill(browser, path, {**FORMS, **MEMBER_FORMS}[path])

    response = browser.post(path, data)

    if path == "/accounts/delete/":
        assert b"Your account has been deleted" in response.content
    else:
        assert response.status_code == 302


@pytest.mark.parametrize(("path", "field", "value"), _cases(FORMS))
def test_public_forms_refuse_bad_values_with_field_errors(client, user, path, field, value) -> None:
    before = _stored(user)
    data = {**FORMS[path], field: value}

    response = client.post(path, data)

    _assert_refused(response, field)
    assert User.count() == EmailClaim.count() == 1
    assert _stored(user) == before
    assert mail.outbox == []


@pytest.mark.parametrize(("path", "field", "value"), _cases(MEMBER_FORMS))
def test_member_forms_refuse_bad_values_with_field_errors(
    signed_in, user, path, field, value
) -> None:
    data = {**_fill(signed_in, path, MEMBER_FORMS[path]), field: value}
    before = _stored(user)

    response = signed_in.post(path, data)

    _assert_refused(response, field)
    assert _stored(user) == before


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/profile/"])
def test_a_display_name_with_a_line_break_is_a_field_error(client, signed_in, user, path) -> None:
    browser = signed_in if path == "/accounts/profile/" else client
    data = {**_fill(browser, path, {**FORMS, **MEMBER_FORMS}[path])}
    before = _stored(user)

    response = browser.post(path, {**data, "display_name": "Ann\nBcc: eve@example.com"})

    _assert_refused(response, "display_name")
    assert b"no line breaks" in response.content
    assert User.count() == 1
    assert _stored(user) == before
    assert mail.outbox == []


@pytest.mark.parametrize("path", [*FORMS, *MEMBER_FORMS])
def test_invalid_utf8_in_the_body_is_a_form_error_not_a_500(client, signed_in, user, path) -> None:
    browser = signed_in if path in MEMBER_FORMS else client
    body = b"email=\xff\xfe%ff&password=\xc3\x28&display_name=\xed\xa0\x80"
    if path == "/accounts/profile/":
        body += f"&action=profile&version={_version(browser)}".encode()
    before = _stored(user)

    response = browser.post(path, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code in (200, 400)
    assert b"errorlist" in response.content  # the form was reached, and refused it
    assert _stored(user) == before


def test_a_one_megabyte_password_is_refused_before_hashing(client, user, monkeypatch) -> None:
    from tests.hashers import FastArgon2PasswordHasher

    hashed: list[int] = []
    for method in ("encode", "verify"):
        original = getattr(FastArgon2PasswordHasher, method)

        def record(self, password, *args, _original=original):
            hashed.append(len(password))
            return _original(self, password, *args)

        monkeypatch.setattr(FastArgon2PasswordHasher, method, record)

    signup = client.post(
        "/accounts/signup/", {"email": "big@example.com", "password1": ONE_MB, "password2": ONE_MB}
    )
    login = log_in(client, password=ONE_MB)
    log_in(client)  # a normal login hashes: the recorder works

    _assert_refused(signup, "password1", "password2")
    assert b"at most 512 characters" in signup.content
    assert login.status_code == 200
    assert hashed == [len(PASSWORD)]
    assert selectors.user_get_by_email(email="big@example.com") is None


@pytest.mark.parametrize("path", [*FORMS, *MEMBER_FORMS, "/accounts/logout/"])
def test_posts_without_a_csrf_token_are_refused(user, path) -> None:
    client = Client(enforce_csrf_checks=True)
    log_in_client = Client()
    log_in(log_in_client)
    client.cookies = log_in_client.cookies

    response = client.post(path, {**FORMS.get(path, {}), **MEMBER_FORMS.get(path, {})})

    assert response.status_code == 403
    assert User.count(user.id) == 1


def test_a_wrong_csrf_token_is_refused(user) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"email": "ann@example.com", "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64},
    )

    assert response.status_code == 403


def test_emails_differing_only_in_case_or_spaces_are_one_address(client, user) -> None:
    response = log_in(client, email="  Ann@EXAMPLE.com  ")

    assert response.status_code == 302


def test_twenty_simultaneous_sign_ups_with_one_email_make_one_account() -> None:
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def sign_up(n: int) -> None:
        client = Client()
        email = "same@example.com" if n % 2 else " SAME@example.com"
        data = {"email": email, "password1": PASSWORD, "password2": PASSWORD}
        barrier.wait()
        response = client.post("/accounts/signup/", data)
        statuses.append(response.status_code)
        if response.status_code == 200:
            assert b"already exists" in response.content

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 19 + [302]
    assert User.count() == 1
    assert EmailClaim.count() == 1
    [claim] = EmailClaim.scan()
    assert User.get(claim.user_id).email.strip().lower() == "same@example.com"


def test_an_overlong_reset_uid_is_a_400(client) -> None:
    response = client.get(f"/accounts/password/reset/{'A' * 4000}/abc-def/")

    assert response.status_code == 400


def test_a_huge_version_number_is_a_field_error(signed_in) -> None:
    response = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "A", "version": "9" * 60}
    )

    assert response.status_code == 400
    assert b"out of date" in response.content
