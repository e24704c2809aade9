"""Page cursors: round trips, and every kind of tampering refused with one error."""

import re

import pytest

from datalayer import cursors
from datalayer.cursors import InvalidCursorError, decode_cursor, encode_cursor

pytestmark = pytest.mark.no_dynamodb

FIELDS = {"id": str.isdigit}
SCOPE = "things:all"


@pytest.fixture(autouse=True)
def _keys():
    """Run each test under known keys; give the process its keys back afterwards."""
    saved = list(cursors._keys)
    cursors.configure(keys=[b"current key"])
    yield
    cursors.configure(keys=saved)


def test_a_cursor_round_trips_in_url_safe_characters() -> None:
    cursor = encode_cursor({"id": "0123"}, scope=SCOPE)

    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[0-9a-f]{32}", cursor)
    assert decode_cursor(cursor, scope=SCOPE, fields=FIELDS) == {"id": "0123"}


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: _flip(c, 2), id="payload-edited"),
        pytest.param(lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"), id="check-edited"),
        pytest.param(lambda c: c.partition(".")[0], id="check-cut"),
        pytest.param(lambda c: "." + c.partition(".")[2], id="payload-cut"),
        pytest.param(lambda c: c[:-4], id="truncated"),
        pytest.param(lambda c: "", id="empty"),
        pytest.param(lambda c: "garbage", id="garbage"),
        pytest.param(lambda c: "é" * 10 + "." + "é" * 32, id="not-ascii"),
        pytest.param(lambda c: c * 20, id="too-long"),
        pytest.param(lambda c: "eyJpZCI6IjEifQ", id="unsigned-old-format"),
    ],
)
def test_a_tampered_cursor_is_refused(tamper) -> None:
    cursor = encode_cursor({"id": "0123"}, scope=SCOPE)

    with pytest.raises(InvalidCursorError, match="start again from the first page"):
        decode_cursor(tamper(cursor), scope=SCOPE, fields=FIELDS)


def test_a_cursor_of_another_list_is_refused() -> None:
    cursor = encode_cursor({"id": "0123"}, scope="things:mine")

    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, scope="things:yours", fields=FIELDS)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"id": "1", "more": "2"}, id="extra-field"),
        pytest.param({}, id="missing-field"),
        pytest.param({"id": "bad"}, id="field-check-fails"),
    ],
)
def test_a_signed_cursor_with_other_fields_is_refused(values) -> None:
    # Signed with the site's own key, yet not what this list's keys look like.
    cursor = encode_cursor(values, scope=SCOPE)

    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, scope=SCOPE, fields=FIELDS)


def test_a_cursor_made_without_the_key_is_refused() -> None:
    cursors.configure(keys=[b"someone else's key"])
    forged = encode_cursor({"id": "1"}, scope=SCOPE)
    cursors.configure(keys=[b"current key"])

    with pytest.raises(InvalidCursorError):
        decode_cursor(forged, scope=SCOPE, fields=FIELDS)


def test_cursors_of_the_previous_key_still_work_while_it_is_a_fallback() -> None:
    old = encode_cursor({"id": "1"}, scope=SCOPE)
    cursors.configure(keys=[b"new key", b"current key"])

    assert decode_cursor(old, scope=SCOPE, fields=FIELDS) == {"id": "1"}
    new = encode_cursor({"id": "1"}, scope=SCOPE)
    assert new != old
    cursors.configure(keys=[b"new key"])
    with pytest.raises(InvalidCursorError):
        decode_cursor(old, scope=SCOPE, fields=FIELDS)


def test_only_strings_go_into_a_cursor() -> None:
    with pytest.raises(TypeError):
        encode_cursor({"id": 1}, scope=SCOPE)  # type: ignore[dict-item]
