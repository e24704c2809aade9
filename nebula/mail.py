"""Send mail beside the request, not in it.

A slow or failing mail server must neither slow a page down nor turn it into an
error, and how long a request takes must not tell whether a mail went out (the
password reset answers the same for every address). Mail is handed to a small
thread pool; a failure is logged (without the address) and the person can ask
again. Pending mail is finished when the process exits normally.

:func:`send_built` moves the building too (tokens, templates) out of the request:
the request hands over a function, and whether it makes a mail at all is decided
beside the request, so every request does the same work.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nebula-mail")
_pending: set[Future] = set()


@dataclass(frozen=True)
class Mail:
    """One plain-text mail."""

    to: str
    subject: str
    body: str


def send(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail, in the background unless settings say otherwise."""
    message = Mail(to=to, subject=subject, body=body)
    send_built(lambda: message)


def send_built(build: Callable[[], Mail | None]) -> None:
    """Build a mail with ``build`` and send it, both beside the request; None sends nothing."""
    if not settings.NEBULA_MAIL_IN_BACKGROUND:
        _build_and_deliver(build)
        return
    future = _executor.submit(_build_and_deliver, build)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _build_and_deliver(build: Callable[[], Mail | None]) -> None:
    try:
        message = build()
    except Exception:
        logger.exception("could not build a mail")
        return
    if message is None:
        return
    try:
        send_mail(message.subject, message.body, None, [message.to])
    except Exception:
        logger.exception("could not send the mail %r", message.subject)


def wait_for_pending(timeout: float = 30.0) -> None:
    """Block until every mail handed over so far is sent or has failed."""
    wait(list(_pending), timeout=timeout)
