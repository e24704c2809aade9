"""Validators for text that people type and other people read (names, subjects)."""

import unicodedata

from django.core.exceptions import ValidationError

# Besides control characters (category Cc: newlines, tabs, NUL, DEL, C1) and the
# line and paragraph separators, the bidirectional controls, which reorder what
# a reader sees. Other format characters stay allowed: the zero-width joiners
# build emoji sequences and are needed in Persian or Indic names.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def validate_one_line_text(value: str) -> None:
    """Refuse text with a line break or another control character in it."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise ValidationError(
                "Use letters, digits, spaces and punctuation only: no line breaks, "
                "tabs or other control characters.",
                code="control_character",
            )
