"""The terminal progress bar: drawn on a terminal, silent on anything else."""

import io

import pytest

from nebula.management.progress import ProgressBar, bar

pytestmark = pytest.mark.no_dynamodb


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_fills_in_proportion() -> None:
    assert bar(0, 4, width=8) == "[........] 0/4"
    assert bar(1, 4, width=8) == "[##......] 1/4"
    assert bar(4, 4, width=8) == "[########] 4/4"
    assert bar(7, 120, width=10) == "[..........]   7/120"


def test_without_a_total_it_counts() -> None:
    assert bar(12, None) == "12 so far"


def test_on_a_terminal_it_redraws_one_line_and_clears_it() -> None:
    stream = _Terminal()
    progress = ProgressBar(stream, 2)

    progress.update(1)
    progress.update(2)
    progress.clear()

    text = stream.getvalue()
    assert text.count("\r[") == 2
    assert "\n" not in text
    assert text.endswith("\r")


def test_anywhere_else_it_writes_nothing() -> None:
    stream = io.StringIO()
    progress = ProgressBar(stream, 2)

    progress.update(1)
    progress.clear()

    assert stream.getvalue() == ""
