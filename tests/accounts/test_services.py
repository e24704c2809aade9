"""Account services: each keeps the tables consistent and refuses what the forms refuse."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts import selectors, services
from accounts.models import Session, User
from accounts.ratelimits import login_failure_budget
from accounts.session_keys import stored_id
from nebula.email_addresses import InvalidEmailError
from tests.accounts.conftest import PASSWORD, log_in

LINE_BREAK = "Ann\nBcc: eve@example.com"


def test_creating_a_user_refuses_a_display_name_with_a_line_break() -> None:
    with pytest.raises(ValidationError):
        services.user_create(email="ann@example.com", password=PASSWORD, display_name=LINE_BREAK)

    assert User.count() == 0


def test_creating_a_user_refuses_an_address_without_a_canonical_form() -> None:
    with pytest.raises(InvalidEmailError):
        services.user_create(email="ann@stra\u00dfe.de", password=PASSWORD)

    assert User.count() == 0


def test_creating_a_user_stores_the_canonical_address() -> None:
    user = services.user_create(email=" Ann@EXA\u00adMPLE.com", password=PASSWORD)

    assert selectors.user_get(user_id=user.id).email == "Ann@example.com"


def test_changing_a_display_name_refuses_a_line_break(user, superuser) -> None:
    with pytest.raises(ValidationError):
        services.user_update_profile(
            user=user, expected_version=user.version, display_name=LINE_BREAK
        )
    with pytest.raises(ValidationError):
        services.user_admin_update(
            actor=superuser,
            user=user,
            expected_version=user.version,
            changes={"display_name": LINE_BREAK},
        )

    assert selectors.user_get(user_id=user.id).display_name == "Ann"


NEW_PASSWORD = "a whole new secret phrase"


def test_a_password_reset_sets_the_password_ends_every_session_and_forgets_failures(
    user, settings, rf
) -> None:
    settings.NEBULA_RATES = {**settings.NEBULA_RATES, "login_account": "2/15m"}
    browsers = [Client(), Client()]
    for browser in browsers:
        log_in(browser)
    attempt = rf.post("/accounts/login/", {"email": "ann@example.com"})
    for _ in range(2):
        login_failure_budget(attempt).take()
    assert login_failure_budget(attempt).spent()

    services.user_reset_password(user=user, password=NEW_PASSWORD)

    assert selectors.user_get(user_id=user.id).check_password(NEW_PASSWORD)
    assert selectors.session_list_for_user(user_id=user.id) == []
    assert [b.get("/accounts/profile/").status_code for b in browsers] == [302, 302]
    assert not login_failure_budget(attempt).spent()


NEW_PASSWORD = "a brand new passphrase 42"


def _session_key(client: Client) -> str:
    return client.cookies["sessionid"].value


def test_changing_the_password_ends_every_other_session_and_says_how_many(user) -> None:
    here, phone, laptop = Client(), Client(), Client()
    for client in (here, phone, laptop):
        log_in(client)

    ended = services.user_change_password(
        user=user, password=NEW_PASSWORD, keep_session_keys={_session_key(here)}
    )

    assert ended == 2
    remaining = selectors.session_list_for_user(user_id=user.id)
    assert [s.id for s in remaining] == [stored_id(_session_key(here))]
    stored = User.get(user.id)
    assert check_password(NEW_PASSWORD, stored.password)
    assert not check_password(PASSWORD, stored.password)
    assert phone.get("/accounts/profile/").status_code == 302


def test_the_page_tells_how_many_other_sessions_were_signed_out(signed_in) -> None:
    log_in(Client())

    response = signed_in.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert b"Your password is changed. 1 other session signed out." in response.content
    assert signed_in.get("/accounts/profile/").status_code == 200


def test_changing_the_password_of_a_deleted_user_brings_nothing_back(user) -> None:
    other = Client()
    log_in(other)
    services.user_delete(user=user)

    with pytest.raises(services.UserGoneError):
        services.user_change_password(user=user, password=NEW_PASSWORD)

    assert User.count() == 0


# --- operators' and admins' account actions ------------------------------------------


def test_a_user_created_without_a_password_cannot_sign_in() -> None:
    ann = services.user_create(email="ann@example.com", password=None)

    assert not selectors.user_get(user_id=ann.id).has_usable_password()
    assert log_in(Client(), password="").status_code == 200


def test_setting_active_as_a_staff_member_is_refused_for_a_staff_account(make_user) -> None:
    staff = make_user(email="staff@example.com", is_staff=True)
    other = make_user(email="other@example.com", is_staff=True)

    with pytest.raises(services.AdminActionRefusedError):
        services.user_set_active(user=other, active=False, actor=staff)

    assert selectors.user_get(user_id=other.id).is_active


def test_setting_active_as_an_operator_may_deactivate_a_superuser(superuser) -> None:
    change = services.user_set_active(user=superuser, active=False)

    assert change == services.ActiveChange(changed=True, sessions_ended=0)
    assert not selectors.user_get(user_id=superuser.id).is_active


def test_setting_active_on_a_deleted_user_brings_nothing_back(user) -> None:
    services.user_delete(user=user)

    with pytest.raises(services.UserGoneError):
        services.user_set_active(user=user, active=False)

    assert selectors.user_get(user_id=user.id) is None


def test_ending_everyones_sessions_ends_anonymous_ones_too(user) -> None:
    log_in(Client())
    now = timezone.now()
    services.session_save(
        stored_id="anonymous",
        data="",
        expires=now + timedelta(hours=1),
        user_id=None,
        created=now,
        ip=None,
        user_agent=None,
        must_create=True,
    )

    assert services.session_end_everyone() == 2
    assert list(Session.scan()) == []
