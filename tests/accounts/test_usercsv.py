"""The CSV format of the user import and export: pure checks, no DynamoDB."""

import pytest

from accounts.management.usercsv import (
    HeaderError,
    NewUser,
    RowError,
    check_header,
    parse_flag,
    parse_row,
)

pytestmark = pytest.mark.no_dynamodb


@pytest.mark.parametrize(
    "header",
    [
        ["email"],
        [" email ", "display_name"],
        ["id", "email", "display_name", "is_active", "is_staff", "is_superuser"],
        ["email", "email_verified", "date_joined", "last_login"],
    ],
)
def test_headers_an_import_reads(header) -> None:
    check_header(header)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "the file is empty"),
        ([], "the file is empty"),
        (["name"], "unknown column 'name'"),
        (["email", "password"], "unknown column 'password'"),
        (["display_name"], "no email column"),
        (["email", "is_staff", "is_staff"], "column is_staff appears more than once"),
    ],
)
def test_headers_an_import_refuses(header, reason) -> None:
    with pytest.raises(HeaderError, match=reason):
        check_header(header)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("YES", True), (" 1 ", True), ("False", False), ("no", False), ("0", False)],
)
def test_flags_read_the_usual_spellings(value, expected) -> None:
    assert parse_flag("is_staff", value) is expected


@pytest.mark.parametrize(("name", "default"), [("is_active", True), ("is_staff", False)])
def test_an_empty_flag_is_its_default(name, default) -> None:
    assert parse_flag(name, "") is default
    assert parse_flag(name, None) is default


def test_a_flag_that_is_neither_is_refused() -> None:
    with pytest.raises(RowError, match="is_staff must be true or false, not 'maybe'"):
        parse_flag("is_staff", "maybe")


def test_a_row_becomes_a_new_user_with_a_canonical_address() -> None:
    row = {"email": " Ann@EXAMPLE.com ", "display_name": " Ann ", "is_staff": "yes"}

    assert parse_row(row) == NewUser(
        email="Ann@example.com",
        display_name="Ann",
        is_active=True,
        is_staff=True,
        is_superuser=False,
        email_verified=False,
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"email": ""}, "the email cell is empty"),
        ({"email": "ann@"}, "Enter a valid email address"),
        ({"email": "ann@stra\u00dfe.de"}, "type its xn-- form"),
        ({"email": "a@example.com", "display_name": "A\nB"}, "no line breaks"),
        ({"email": "a@example.com", "display_name": "x" * 81}, "longer than 80 characters"),
        ({"email": "a@example.com", None: ["extra"]}, "more cells than the header"),
        ({"email": "a@example.com", "display_name": None}, "fewer cells than the header"),
    ],
)
def test_rows_that_cannot_be_accounts_say_why(row, reason) -> None:
    with pytest.raises(RowError, match=reason):
        parse_row(row)
