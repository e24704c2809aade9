"""Services that are more than one write: each step happens, in one call."""

from django.test import Client

from accounts import selectors, services
from accounts.ratelimits import login_failure_budget
from tests.accounts.conftest import log_in

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
