"""A progress bar for commands run on a terminal: stdlib only, silent elsewhere."""

from typing import TextIO

WIDTH = 30


def bar(done: int, total: int | None, *, width: int = WIDTH) -> str:
    """Return ``[#######.......]  12/40`` for ``done`` of ``total`` (``12 so far`` if unknown)."""
    if total is None:
        return f"{done} so far"
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total}"


class ProgressBar:
    """Redraw one line on ``stream`` as work advances, if it is a terminal.

    On anything else (a pipe, a file, a CI log) it writes nothing: those keep
    only the lines the command prints. Call :meth:`clear` before printing such
    a line; the next :meth:`update` draws the bar again.
    """

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._drawn = 0

    def update(self, done: int) -> None:
        """Show ``done`` of the total."""
        if self.enabled:
            text = bar(done, self.total)
            self._write("\r" + text)
            self._drawn = len(text)

    def clear(self) -> None:
        """Remove the bar from the line."""
        if self.enabled and self._drawn:
            self._write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def _write(self, text: str) -> None:
        # Django's OutputWrapper ends each write with a newline unless told otherwise.
        if hasattr(self.stream, "style_func"):
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()
