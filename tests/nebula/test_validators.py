"""Text people type for others to read stays on one line (no stand-in needed)."""

import pytest
from django.core.exceptions import ValidationError

from nebula.validators import validate_one_line_text


@pytest.fixture(autouse=True)
def dynamodb() -> None:
    """Pure functions: no DynamoDB stand-in."""


@pytest.mark.parametrize(
    "text",
    [
        "Ann\nBcc: eve@example.com",
        "Ann\r\nClick https://evil.example/",
        "Ann\tLee",
        "Ann\x00",
        "Ann\x85Lee",  # NEL, a C1 control
        "Ann\u2028Lee",  # line separator
        "Ann\u2029Lee",  # paragraph separator
        "Ann\u202eeeL",  # right-to-left override: the name reads backwards
    ],
)
def test_line_breaks_and_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="no line breaks"):
        validate_one_line_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ann Lee",
        "Zoë O’Brien-Şahin",
        "\u0645\u06cc\u200c\u0634\u0648\u062f",  # Persian with a zero-width non-joiner
        "\U0001f469\u200d\U0001f4bb Ann",  # an emoji ZWJ sequence
        "",
    ],
)
def test_names_in_any_script_are_accepted(text: str) -> None:
    validate_one_line_text(text)
