"""Text that people type and other people read (names, subjects): one line, no controls.

Django-free, so the site's validators (``nebula.validators``) and the Lambda code (the
bulk user import) refuse the same characters.
"""

import unicodedata

ONE_LINE_MESSAGE = (
    "Use letters, digits, spaces and punctuation only: no line breaks, "
    "tabs or other control characters."
)

# Besides control characters (category Cc: newlines, tabs, NUL, DEL, C1) and the
# line and paragraph separators, the bidirectional controls, which reorder what
# a reader sees. Other format characters stay allowed: the zero-width joiners
# build emoji sequences and are needed in Persian or Indic names.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_one_line_text(value: str) -> bool:
    """Say whether ``value`` has no line break and no other control character."""
    return not any(
        unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS for char in value
    )
