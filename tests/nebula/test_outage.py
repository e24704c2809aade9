"""A DynamoDB outage, for real: the moto server stopped (hung) or killed (refused).

Budget (docs/architecture.md, "Timeouts and outages"): every page that needs
DynamoDB answers the 503 page with ``Retry-After`` within 3 s of a hung DynamoDB
and within 0.5 s of a refused connection, a request never waits on DynamoDB again
once it saw it unavailable, and the site answers normally within 1 s of DynamoDB
coming back. Checked through the test client (DEBUG on, as in ``make run``, and
off) and under real Gunicorn with production settings.
"""

import http.client
import http.server
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts import services
from datalayer.tables import ensure_all_tables
from nebula.apps import configure_data_layer
from nebula.logging import JSONFormatter
from tests.support import (
    dynamodb_env,
    free_port,
    gunicorn,
    manage,
    production_env,
    start_standin,
    wait_for_http,
)

# A moto server of its own per test: the shared one is never stopped.
pytestmark = [pytest.mark.slow, pytest.mark.no_dynamodb]

HUNG_BUDGET = 3.0
REFUSED_BUDGET = 0.5
RECOVERY_BUDGET = 1.0
PASSWORD = "correct horse battery staple"
SIGNED_IN_PAGE = "/accounts/profile/"


@dataclass
class StandIn:
    """A moto server of this test's own, which the test may stop or kill."""

    process: subprocess.Popen
    port: int

    def hang(self) -> None:
        """Stop the server: it still accepts connections (the kernel does), never answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Kill the server: connections are refused."""
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """Point this process at a moto server of its own, with the tables and a user."""
    port = free_port()
    process = start_standin(port)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    configure_data_layer()
    try:
        ensure_all_tables()
        services.user_create(email="ann@example.com", password=PASSWORD)
        yield StandIn(process, port)
    finally:
        # No snapshot to keep: SIGKILL ends it even while stopped.
        process.kill()
        process.wait(10)
        monkeypatch.undo()
        configure_data_layer()


def _signed_in_client() -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 302, response.content
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    return client


class Log:
    """What this process logged during the test."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog
        self._formatter = JSONFormatter()

    def access(self) -> list[dict]:
        """Return the access log lines, as the JSON objects written to stdout."""
        records = self._caplog.records
        return [json.loads(self._formatter.format(r)) for r in records if r.name == "nebula.access"]

    def errors(self) -> list[str]:
        return [r.getMessage() for r in self._caplog.records if r.levelno >= logging.ERROR]

    def clear(self) -> None:
        self._caplog.clear()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Log:
    caplog.set_level(logging.INFO)
    return Log(caplog)


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _assert_calm_503(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.NEBULA_RETRY_AFTER_SECONDS)
    assert b"try again" in response.content.lower()


# --- The test client: local settings with DEBUG on (make run) and off --------------


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
@pytest.mark.parametrize("fault", ["hang", "kill"], ids=["hung", "refused"])
def test_a_signed_in_page_gives_the_503_page_within_budget(
    standin: StandIn, log: Log, settings, debug: bool, fault: str
) -> None:
    client = _signed_in_client()
    settings.DEBUG = debug
    log.clear()
    getattr(standin, fault)()

    response, elapsed = _timed(lambda: client.get(SIGNED_IN_PAGE))

    _assert_calm_503(response)
    assert elapsed < (HUNG_BUDGET if fault == "hang" else REFUSED_BUDGET)
    # One call met the outage; nothing else in the request (the response phase's
    # session check, the debug page's user) tried DynamoDB again.
    assert log.access()[-1]["dynamodb_calls"] == 1
    assert log.errors() == []


@pytest.mark.urls("tests.nebula.urls")
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_a_failure_in_the_response_phase_gives_the_503_page(
    standin: StandIn, log: Log, settings, debug: bool
) -> None:
    # The view reads nothing; saving its session, after the view, is the first call.
    settings.DEBUG = debug
    standin.hang()

    response, elapsed = _timed(lambda: Client().get("/remember/"))

    _assert_calm_503(response)
    assert elapsed < HUNG_BUDGET
    assert log.access()[-1]["dynamodb_calls"] == 1
    assert log.errors() == []


class _FailingServer(http.server.BaseHTTPRequestHandler):
    """Answer every call 500 with an HTML page, as a failing server or a proxy in front may."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_a_dynamodb_answering_500_without_a_reason_gives_the_503_page(
    monkeypatch: pytest.MonkeyPatch, log: Log, settings, debug: bool
) -> None:
    # botocore cannot parse the page, so it names the error by the status ("500"),
    # not by a DynamoDB error code: the status alone must say "try again later".
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{server.server_port}")
    configure_data_layer()
    settings.DEBUG = debug
    try:
        response = Client().post(
            "/accounts/signup/",
            {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    finally:
        server.shutdown()
        server.server_close()
        monkeypatch.undo()
        configure_data_layer()

    _assert_calm_503(response)
    assert log.access()[-1]["dynamodb_calls"] == 1
    assert log.errors() == []


def test_pages_that_need_no_data_answer_at_full_speed_while_dynamodb_hangs(
    standin: StandIn, log: Log
) -> None:
    standin.hang()
    anonymous = Client()

    for path in ("/", "/healthz", "/accounts/login/"):
        response, elapsed = _timed(lambda path=path: anonymous.get(path))
        assert response.status_code == 200, path
        # Shorter than one read timeout: it never waited on the hung server
        # (how fast it is belongs in `make bench`, not in a timed test).
        assert elapsed < settings.NEBULA_DYNAMODB_READ_TIMEOUT, path
    assert {line["dynamodb_calls"] for line in log.access()} == {0}


def test_the_site_recovers_within_a_second_of_dynamodb_answering_again(
    standin: StandIn,
) -> None:
    client = _signed_in_client()
    standin.hang()
    assert client.get(SIGNED_IN_PAGE).status_code == 503

    standin.resume()
    response, elapsed = _timed(lambda: client.get(SIGNED_IN_PAGE))

    assert response.status_code == 200
    assert elapsed < RECOVERY_BUDGET


# --- Real Gunicorn, production settings ------------------------------------------------


HOST = "nebula.example.com"


@dataclass
class Server:
    port: int
    log: Path
    cookie: str

    def get(self, path: str, *, signed_in: bool = True) -> tuple[http.client.HTTPResponse, float]:
        """GET ``path`` over HTTPS (through the load balancer), as the signed-in browser or not."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
        if signed_in:
            headers["Cookie"] = self.cookie
        started = time.monotonic()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        elapsed = time.monotonic() - started
        connection.close()
        return response, elapsed

    def access_line(self, request_id: str) -> dict:
        for raw in self.log.read_text().splitlines():
            line = json.loads(raw) if raw.startswith("{") else {}
            if line.get("logger") == "nebula.access" and line.get("request_id") == request_id:
                return line
        raise AssertionError(f"no access line for {request_id}")

    def errors(self) -> list[str]:
        return [raw for raw in self.log.read_text().splitlines() if '"level": "ERROR"' in raw]


@pytest.fixture
def production_server(standin: StandIn, tmp_path: Path) -> Iterator[Server]:
    """Gunicorn with production settings on the stand-in; a browser signed in to it."""
    cookie_name = settings.SESSION_COOKIE_NAME
    client = _signed_in_client()
    session_key = client.cookies[cookie_name].value
    env = production_env(
        DJANGO_ALLOWED_HOSTS=HOST,
        # The session's auth hash is signed with the key: the same key as this process.
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        NEBULA_TABLE_PREFIX=settings.NEBULA_TABLE_PREFIX,
        NEBULA_STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(dynamodb_env(standin.port))
    collected = manage("collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log=log) as base:
        server = Server(int(base.rsplit(":", 1)[1]), log, f"{cookie_name}={session_key}")
        response, _ = server.get(SIGNED_IN_PAGE)
        assert response.status == 200
        yield server


def test_under_gunicorn_a_hung_dynamodb_gives_the_503_page_then_recovers(
    standin: StandIn, production_server: Server
) -> None:
    standin.hang()

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(production_server.get, SIGNED_IN_PAGE)
        time.sleep(0.2)
        # Meanwhile another thread of the same worker serves a page that needs no data.
        home, home_elapsed = production_server.get("/", signed_in=False)
        answered_while_the_other_waited = not waiting.done()
        response, elapsed = waiting.result()

    assert home.status == 200
    assert answered_while_the_other_waited
    assert home_elapsed < settings.NEBULA_DYNAMODB_READ_TIMEOUT
    assert response.status == 503
    assert response.getheader("Retry-After") == str(settings.NEBULA_RETRY_AFTER_SECONDS)
    assert b"try again" in response.body.lower()
    assert elapsed < HUNG_BUDGET
    line = production_server.access_line(response.getheader("X-Request-ID"))
    assert line["dynamodb_calls"] == 1
    assert production_server.errors() == []

    standin.resume()
    response, elapsed = production_server.get(SIGNED_IN_PAGE)

    assert response.status == 200
    assert elapsed < RECOVERY_BUDGET


def test_under_gunicorn_a_refused_connection_gives_the_503_page_at_once(
    standin: StandIn, production_server: Server
) -> None:
    standin.kill()

    response, elapsed = production_server.get(SIGNED_IN_PAGE)

    assert response.status == 503
    assert response.getheader("Retry-After") == str(settings.NEBULA_RETRY_AFTER_SECONDS)
    assert elapsed < REFUSED_BUDGET
    line = production_server.access_line(response.getheader("X-Request-ID"))
    assert line["dynamodb_calls"] == 1
    assert production_server.errors() == []
    # Pages that need no data keep answering.
    wait_for_http(f"http://127.0.0.1:{production_server.port}/healthz", timeout=1)
