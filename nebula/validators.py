"""Validators for text that people type and other people read (names, subjects)."""

from django.core.exceptions import ValidationError

from datalayer.text import ONE_LINE_MESSAGE, is_one_line_text


def validate_one_line_text(value: str) -> None:
    """Refuse text with a line break or another control character in it."""
    if not is_one_line_text(value):
        raise ValidationError(ONE_LINE_MESSAGE, code="control_character")
