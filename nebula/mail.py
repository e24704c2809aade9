"""Send mail beside the request, not in it.

A slow or failing mail server must neither slow a page down nor turn it into an
error, and how long a request takes must not tell whether a mail went out (the
password reset answers the same for every address). Mail is handed to a small
thread pool; a failure is logged (without the address) and the person can ask
again. Pending mail is finished when the process exits normally.
"""

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nebula-mail")
_pending: set[Future] = set()


def send(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail, in the background unless settings say otherwise."""
    if not settings.NEBULA_MAIL_IN_BACKGROUND:
        _deliver(to, subject, body)
        return
    future = _executor.submit(_deliver, to, subject, body)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _deliver(to: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [to])
    except Exception:
        logger.exception("could not send the mail %r", subject)


def wait_for_pending(timeout: float = 30.0) -> None:
    """Block until every mail handed over so far is sent or has failed."""
    wait(list(_pending), timeout=timeout)
