"""Reset-link user ids: only a whole, well-formed user id comes out (no stand-in needed)."""

import uuid

import pytest
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import decode_uid, encode_uid

USER_ID = uuid.uuid4().hex


@pytest.fixture(autouse=True)
def dynamodb() -> None:
    """Pure functions: no DynamoDB stand-in."""


def test_a_user_id_survives_the_round_trip() -> None:
    assert decode_uid(encode_uid(User(USER_ID))) == USER_ID


@pytest.mark.parametrize(
    "raw",
    [
        (USER_ID + "\n").encode(),  # a trailing newline
        ("\n" + USER_ID).encode(),
        USER_ID.upper().encode(),
        USER_ID[:31].encode(),
        b"nobody",
        b"\xff\xfe" + USER_ID.encode(),  # not UTF-8
    ],
    ids=["trailing newline", "leading newline", "upper case", "too short", "word", "binary"],
)
def test_anything_but_a_whole_user_id_is_no_user(raw: bytes) -> None:
    assert decode_uid(urlsafe_base64_encode(raw)) is None


@pytest.mark.parametrize("uidb64", ["", "!!!!", "A" * 65, "MTIz\n"])
def test_text_that_is_no_base64_user_id_is_no_user(uidb64: str) -> None:
    assert decode_uid(uidb64) is None
