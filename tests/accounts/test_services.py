"""Account services: each keeps the tables consistent and refuses what the forms refuse."""

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts import selectors, services
from accounts.models import EmailClaim, Session, User, session_entry_name, session_list_key
from accounts.ratelimits import login_failure_budget
from accounts.session_keys import public_id, stored_id
from accounts.session_store import SessionStore
from datalayer.counters import (
    SESSIONS,
    SIGNUPS,
    Counter,
    counter_get_many,
    daily_name,
    hourly_name,
)
from datalayer.models import connection
from nebula.email_addresses import InvalidEmailError
from tests.accounts.conftest import PASSWORD, log_in

LINE_BREAK = "Ann\nBcc: eve@example.com"
OPERATOR = "operator:tester"


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
        services.user_admin_set_active(actor=staff, user=other, active=False)

    assert selectors.user_get(user_id=other.id).is_active


def test_setting_active_as_an_operator_may_deactivate_a_superuser(superuser) -> None:
    change = services.user_set_active(operator=OPERATOR, user=superuser, active=False)

    assert change == services.ActiveChange(changed=True, sessions_ended=0)
    assert not selectors.user_get(user_id=superuser.id).is_active


def test_setting_active_on_a_deleted_user_brings_nothing_back(user) -> None:
    services.user_delete(user=user)

    with pytest.raises(services.UserGoneError):
        services.user_set_active(operator=OPERATOR, user=user, active=False)

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

    assert services.session_end_everyone(operator=OPERATOR) == 2
    assert list(Session.scan()) == []


def test_updates_never_bring_a_deleted_user_back(user, superuser) -> None:
    stale = selectors.user_get(user_id=user.id)
    services.user_delete(user=user)

    for update in (
        lambda: services.user_record_login(user=stale),
        lambda: services.user_set_password(user=stale, password="another long phrase"),
    ):
        with pytest.raises(services.UserGoneError):
            update()
    with pytest.raises(services.ConcurrentEditError):
        services.user_admin_update(
            actor=superuser,
            user=stale,
            expected_version=stale.version,
            changes={"is_active": False},
        )
    assert User.count(user.id) == 0


def test_a_login_stamp_does_not_make_an_open_profile_form_stale(signed_in, user) -> None:
    page = signed_in.get("/accounts/profile/")
    version = re.search(rb'name="version" value="(\d+)"', page.content).group(1).decode()
    log_in(Client())  # the same person signs in on another device

    response = signed_in.post(
        "/accounts/profile/", {"action": "profile", "display_name": "Annie", "version": version}
    )

    assert response.status_code == 302


def _conflict(**_) -> AWSResponse:
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled [None, TransactionConflict]",
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
    }

    class Raw:
        def stream(self, **_):
            yield json.dumps(body).encode()

    return AWSResponse("https://dynamodb", 400, {}, Raw())


@pytest.fixture
def conflicts():
    """Answer the next N TransactWriteItems calls with a TransactionConflict, as AWS may."""
    events = connection().client.meta.events
    remaining = {"n": 0}

    def handler(**kwargs):
        if remaining["n"] > 0:
            remaining["n"] -= 1
            return _conflict()
        return None

    events.register("before-send.dynamodb.TransactWriteItems", handler)

    def set_count(n: int) -> None:
        remaining["n"] = n

    yield set_count
    events.unregister("before-send.dynamodb.TransactWriteItems", handler)


def test_a_transaction_conflict_is_retried(conflicts) -> None:
    conflicts(1)

    user = services.user_create(email="gil@example.com", password=PASSWORD)

    assert User.count(user.id) == 1
    assert EmailClaim.count("gil@example.com") == 1


def test_a_lasting_conflict_is_a_clear_form_error_not_a_500(conflicts, client) -> None:
    conflicts(10)

    response = client.post(
        "/accounts/signup/",
        {"email": "gil@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert b"Try again in a moment" in response.content
    assert User.count() == 0


# ---- the dashboard's counts ----


def _today_signups() -> int:
    name = daily_name(SIGNUPS, datetime.now(UTC).date())
    return counter_get_many([name])[name]


def test_a_sign_up_adds_to_todays_sign_ups() -> None:
    services.user_create(email="ann@example.com", password=PASSWORD)
    services.user_create(email="bob@example.com", password=PASSWORD)

    assert _today_signups() == 2


def test_a_refused_sign_up_is_not_counted() -> None:
    services.user_create(email="ann@example.com", password=PASSWORD)
    with pytest.raises(services.EmailTakenError):
        services.user_create(email="ann@example.com", password=PASSWORD)

    assert _today_signups() == 1


def test_a_sign_up_succeeds_when_counting_fails(caplog: pytest.LogCaptureFixture) -> None:
    events = Counter._get_connection().connection.client.meta.events

    def refuse(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb")

    events.register("before-send.dynamodb.UpdateItem", refuse)
    try:
        user = services.user_create(email="ann@example.com", password=PASSWORD)
    finally:
        events.unregister("before-send.dynamodb.UpdateItem", refuse)

    assert selectors.user_get_by_email(email="ann@example.com").id == user.id
    assert "could not add" in caplog.text
    assert _today_signups() == 0


def test_signing_in_counts_a_started_session(user: User) -> None:
    hour = hourly_name(SESSIONS, datetime.now(UTC))
    assert counter_get_many([hour])[hour] == 0

    log_in(Client())

    assert counter_get_many([hour])[hour] == 1


# ---- the session lists (what the sessions page shows, in the session's one read) ----


def _listed(user_id: str) -> set[str]:
    return {entry.stored_id for entry in selectors.session_entries_get(user_id=user_id)}


def _signed_in_browser() -> tuple[Client, str]:
    browser = Client()
    assert log_in(browser).status_code == 302
    return browser, stored_id(browser.cookies["sessionid"].value)


def _rewrite_entry(user_id: str, stored: str, **changes: object) -> None:
    [entry] = [e for e in selectors.session_entries_get(user_id=user_id) if e.stored_id == stored]
    connection().client.update_item(
        TableName=Session.Meta.table_name,
        Key={"key": {"S": session_list_key(user_id)}},
        UpdateExpression="SET #e = :v",
        ExpressionAttributeNames={"#e": session_entry_name(stored)},
        ExpressionAttributeValues={":v": {"S": dataclasses.replace(entry, **changes).encode()}},
    )


def _remove_entry(user_id: str, stored: str) -> None:
    connection().client.update_item(
        TableName=Session.Meta.table_name,
        Key={"key": {"S": session_list_key(user_id)}},
        UpdateExpression="REMOVE #e",
        ExpressionAttributeNames={"#e": session_entry_name(stored)},
    )


def test_signing_in_lists_the_session_and_signing_out_unlists_it(user) -> None:
    browser, stored = _signed_in_browser()
    assert _listed(user.id) == {stored}

    browser.post("/accounts/logout/")

    assert _listed(user.id) == set()


def test_signing_in_beyond_the_cap_ends_the_least_recently_seen_session(user, monkeypatch) -> None:
    monkeypatch.setattr(services, "SESSION_LIST_CAP", 2)
    oldest, oldest_id = _signed_in_browser()
    _second, second_id = _signed_in_browser()

    _third, third_id = _signed_in_browser()

    assert _listed(user.id) == {second_id, third_id}
    assert oldest.get("/accounts/profile/").status_code == 302
    assert Session.count(oldest_id) == 0


def test_entries_of_expired_sessions_are_left_out_then_pruned_at_the_next_sign_in(
    user,
) -> None:
    _browser, expired_id = _signed_in_browser()
    _rewrite_entry(user.id, expired_id, expires=timezone.now() - timedelta(seconds=1))
    entries = selectors.session_entries_get(user_id=user.id)
    assert selectors.session_rows_from_entries(entries=entries, current_key=None) == []

    _other, other_id = _signed_in_browser()

    assert _listed(user.id) == {other_id}


def test_a_session_missing_from_its_list_still_works_and_is_listed_again_once_stamped(
    user,
) -> None:
    # A session from before the lists: its item alone.
    browser, stored = _signed_in_browser()
    _other, other_id = _signed_in_browser()
    _remove_entry(user.id, stored)

    page = browser.get("/accounts/sessions/")

    assert page.status_code == 200
    assert page.content.count(b"This device") == 1  # from its own item
    assert public_id(other_id).encode() in page.content
    Session(stored).update(actions=[Session.last_seen.set(timezone.now() - timedelta(minutes=6))])
    browser.get("/accounts/profile/")  # the "last seen" stamp writes the entry too
    assert _listed(user.id) == {stored, other_id}


def test_sign_out_everywhere_else_ends_sessions_missing_from_the_list(user) -> None:
    browser, _stored = _signed_in_browser()
    other, other_id = _signed_in_browser()
    _remove_entry(user.id, other_id)

    browser.post("/accounts/sessions/end-others/")

    assert other.get("/accounts/profile/").status_code == 302
    assert browser.get("/accounts/profile/").status_code == 200


def test_deleting_the_account_deletes_its_session_list(user) -> None:
    browser, _stored = _signed_in_browser()

    services.user_delete(user=user)
    # A late sign-out of the ended session makes no (empty) list again.
    SessionStore(browser.cookies["sessionid"].value).delete()

    assert list(Session.scan()) == []


def test_sign_out_everywhere_else_ends_sessions_the_index_does_not_show_yet(user) -> None:
    # The by-user index is eventually consistent; the list is read consistently.
    browser, mine = _signed_in_browser()
    _other, other_id = _signed_in_browser()
    Session(other_id).update(actions=[Session.user_id.remove()])
    assert other_id not in {s.id for s in selectors.session_list_for_user(user_id=user.id)}

    page = browser.post("/accounts/sessions/end-others/", follow=True)

    assert b"Signed out 1 other session." in page.content
    assert Session.count(other_id) == 0
    assert _listed(user.id) == {mine}
