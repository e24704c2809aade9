"""Send mail beside the request, not in it.

A slow or failing mail server must neither slow a page down nor turn it into an
error, and how long a request takes must not tell whether a mail went out (the
password reset answers the same for every address). Mail is handed to a small
thread pool; a failure is logged (without the address) and the person can ask
again. Pending mail is finished when the process exits normally.

:func:`send_built` moves the building too (tokens, templates) out of the request:
the request hands over a function, and whether it makes a mail at all is decided
beside the request, so every request does the same work.

A caller that must know what became of a mail (to record it) passes ``on_done``:
it is called once with a :class:`Delivery` after the mail was sent or failed, in
the thread that tried, which has no request around it. Whatever it raises is
logged and goes no further.
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

# A reason is shown to admins and stored: long SMTP transcripts are cut.
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class Mail:
    """One plain-text mail."""

    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """What became of one mail: sent, or not and why (the error, without a traceback)."""

    sent: bool
    reason: str = ""


OnDone = Callable[[Delivery], None]


def send(*, to: str, subject: str, body: str, on_done: OnDone | None = None) -> None:
    """Send one plain-text mail, in the background unless settings say otherwise."""
    message = Mail(to=to, subject=subject, body=body)
    send_built(lambda: message, on_done=on_done)


def send_built(build: Callable[[], Mail | None], *, on_done: OnDone | None = None) -> None:
    """Build a mail with ``build`` and send it, both beside the request; None sends nothing.

    ``on_done`` hears the outcome of a mail that was built (not of None).
    """
    if not settings.NEBULA_MAIL_IN_BACKGROUND:
        _build_and_deliver(build, on_done)
        return
    future = _executor.submit(_build_and_deliver, build, on_done)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:REASON_MAX_LENGTH]


def _build_and_deliver(build: Callable[[], Mail | None], on_done: OnDone | None) -> None:
    try:
        message = build()
    except Exception as exc:
        logger.exception("could not build a mail")
        _report(on_done, Delivery(sent=False, reason=f"could not build the mail: {_reason(exc)}"))
        return
    if message is None:
        return
    try:
        send_mail(message.subject, message.body, None, [message.to])
    except Exception as exc:
        logger.exception("could not send the mail %r", message.subject)
        _report(on_done, Delivery(sent=False, reason=_reason(exc)))
    else:
        _report(on_done, Delivery(sent=True))


def _report(on_done: OnDone | None, delivery: Delivery) -> None:
    if on_done is None:
        return
    try:
        on_done(delivery)
    except Exception:
        logger.exception("could not record what became of a mail")


def wait_for_pending(timeout: float = 30.0) -> None:
    """Block until every mail handed over so far is sent or has failed."""
    wait(list(_pending), timeout=timeout)
