"""Log formatting: one JSON object per line in production, readable text locally.

Every record carries the id of the request it was written for (from a context
variable set by :class:`nebula.middleware.RequestLogMiddleware`). Only the fields
listed in ``FIELDS`` ever leave the process as structured data, so a stray
``extra={"password": ...}`` cannot end up in the logs.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

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
    """Return the URL pattern the request matched ("/accounts/verify/<str:token>/").

    Paths can carry secrets (password-reset and verification tokens), so logs
    get the route, never the filled-in path; unmatched paths (404s) are kept.
    """
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route is not None:
        return "/" + match.route
    return getattr(request, "path", "")


class RequestContextFilter(logging.Filter):
    """Stamp each record with the current request id; keep secrets in paths out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        request = getattr(record, "request", None)
        # django.request writes "%s: %s" % (reason, request.path) for 4xx/5xx.
        if request is not None and isinstance(record.args, tuple) and len(record.args) == 2:
            record.args = (record.args[0], loggable_path(request))
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
