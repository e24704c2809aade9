"""Session middleware: who is on the session, and a "last seen" stamp now and then."""

import logging

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse

from datalayer.calls import unavailable_cause
from datalayer.errors import is_unavailable
from nebula.http import client_ip, outage_summary, unavailable_response

logger = logging.getLogger(__name__)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, telling the store the client's IP and browser."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.session.client_ip = client_ip(request)
        request.session.user_agent = request.headers.get("User-Agent", "")[:512]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if unavailable_cause() is not None:
            # DynamoDB failed earlier in this request: loading or saving the
            # session now would only fail again (the answer is the 503 page).
            session = getattr(request, "session", None)
            if session is not None and session.modified and response.status_code < 500:
                # A best-effort write (a dashboard counter) met the outage and the
                # view went on: a sign-in or sign-up answered as done would leave a
                # session that was never saved, the person signed out on the next
                # page (tests/proof/test_load_and_faults.py found it). Say so instead.
                return unavailable_response(request)
            return response
        self._stamp_last_seen(request)
        try:
            return super().process_response(request, response)
        except Exception as exc:
            # Saving the session is the first DynamoDB call of many requests; Django
            # would turn its failure into a 500 (the debug page under DEBUG).
            if not is_unavailable(exc):
                raise
            logger.warning("DynamoDB unavailable: %s", outage_summary(exc))
            return unavailable_response(request)

    def _stamp_last_seen(self, request: HttpRequest) -> None:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.accessed
            and not session.modified
            and session.get(SESSION_KEY)
            and session.needs_last_seen_stamp()
        ):
            try:
                session.stamp_last_seen()
            except Exception as exc:
                # The page itself worked; a missed stamp is not worth an error page.
                if not is_unavailable(exc):
                    raise
                logger.warning("could not stamp last seen: %s", exc)
