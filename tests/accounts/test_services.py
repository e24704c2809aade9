"""Services refuse what forms refuse, instead of storing or silently cleaning it."""

import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services
from accounts.models import User
from nebula.email_addresses import InvalidEmailError
from tests.accounts.conftest import PASSWORD

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
