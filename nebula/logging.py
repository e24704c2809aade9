"""Log formatting: one JSON object per line in production, readable text locally.

Every record carries the id of the request it was written for (from a context
variable set by :class:`nebula.middleware.RequestLogMiddleware`). Only the fields
listed in ``FIELDS`` ever leave the process as structured data, so a stray
``extra={"password": ...}`` cannot end up in the logs.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

from django.urls import Resolver404, resolve

request_id_var: ContextVar[str | None] = ContextVar("nebula_request_id", default=None)

# Structured fields a record may carry, in output order.
FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "dynamodb_calls",
    "user_id",
)


def loggable_path(request: object) -> str:
    """Return the URL pattern of the request's path ("/accounts/verify/<str:token>/").

    Paths can carry secrets (password-reset and verification tokens), so logs
    get the route, never the filled-in path, whatever the answer was: a path
    that matched no view (a redirect that appends a slash, a 404) is resolved
    here, with and without that slash, and if it still matches no route only
    its short, plain segments are kept.
    """
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route is not None:
        return "/" + match.route
    path_info = getattr(request, "path_info", "")
    urlconf = getattr(request, "urlconf", None)
    for candidate in (path_info, path_info + "/"):
        try:
            route = resolve(candidate, urlconf=urlconf).route
        except Resolver404:
            continue
        if route is not None:
            return "/" + route
    return redacted_path(getattr(request, "path", ""))


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]{0,16}")
_MAX_SEGMENTS = 8


def redacted_path(path: str) -> str:
    """Return ``path`` with every segment that could be a secret replaced by "…".

    Tokens are long: a segment is kept only if it is at most 16 plain
    characters (enough for "wp-login.php" or "favicon.ico"); deep paths are cut.
    """
    segments = path.split("/")
    kept = [s if _PLAIN_SEGMENT.fullmatch(s) else "…" for s in segments[: _MAX_SEGMENTS + 1]]
    if len(segments) > _MAX_SEGMENTS + 1:
        kept.append("…")
    return "/".join(kept)


class RequestContextFilter(logging.Filter):
    """Stamp each record with the current request id; keep secrets in paths out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        request = getattr(record, "request", None)
        # django.request and django.security write the path as an argument
        # ("Not Found: %s", "Forbidden (%s): %s", ...): log its route instead.
        path = getattr(request, "path", None)
        if path is not None and isinstance(record.args, tuple) and path in record.args:
            route = loggable_path(request)
            record.args = tuple(route if arg == path else arg for arg in record.args)
        return True


class JSONFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Format a record for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id and record.name != "nebula.access":
            line += f" [{request_id}]"
        return line
