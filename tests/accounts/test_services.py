"""Services refuse what forms refuse, instead of storing or silently cleaning it."""

import pytest

from accounts import selectors, services
from accounts.models import User
from nebula.email_addresses import InvalidEmailError
from tests.accounts.conftest import PASSWORD


def test_creating_a_user_refuses_an_address_without_a_canonical_form() -> None:
    with pytest.raises(InvalidEmailError):
        services.user_create(email="ann@stra\u00dfe.de", password=PASSWORD)

    assert User.count() == 0


def test_creating_a_user_stores_the_canonical_address() -> None:
    user = services.user_create(email=" Ann@EXA\u00adMPLE.com", password=PASSWORD)

    assert selectors.user_get(user_id=user.id).email == "Ann@example.com"
