"""The site as it runs in production, on loopback: its own stand-in, a mail sink, real Gunicorn.

Used by the load and fault tests (one server per module; the stand-in is theirs alone,
so they may stop it). Gunicorn runs with production settings, two workers (the default
on two CPUs) of ``PROOF_THREADS`` threads, its stdout and stderr both in one log file
the tests read for tracebacks.
"""

import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.test import Client, override_settings

from accounts import services
from datalayer.tables import ensure_all_tables
from nebula.apps import configure_data_layer
from tests.support import (
    ROOT,
    dynamodb_client,
    dynamodb_env,
    free_port,
    manage,
    production_env,
    start_standin,
    wait_for_http,
)

from .load import HOST

PASSWORD = "correct horse battery staple"
# Enough threads per worker that the fault test's few connections never queue
# behind one another: every request's time is its own (docs/testing.md, "Proof").
PROOF_THREADS = 8
WORKERS = 2


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message and forget it."""

    def handle(self) -> None:
        self._say("220 sink ESMTP")
        while line := self.rfile.readline():
            command = line.decode("latin-1").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self._say("250 sink")
            elif command == "DATA":
                self._say("354 go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.server.count += 1
                self._say("250 kept")
            elif command == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class MailSink(socketserver.ThreadingTCPServer):
    """An SMTP server on loopback that accepts every message (production sends real mail)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.count = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]


@dataclass
class StandIn:
    """The site's moto server, with a snapshot file so it can restart with its state."""

    port: int
    snapshot: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = start_standin(
            self.port, "--snapshot", str(self.snapshot), "--interval", "3600"
        )

    def hang(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM: it writes its snapshot and exits; connections are then refused."""
        self.process.terminate()
        assert self.process.wait(60) == 0

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Site:
    """Gunicorn under production settings, the stand-in it uses, and who is signed in."""

    port: int
    log: Path
    standin: StandIn
    prefix: str
    # email -> session cookie value, for the people signed in before the run.
    sessions: dict[str, str] = field(default_factory=dict)
    # Accounts for login posts (one per posting connection): hashed as production hashes.
    login_accounts: list[str] = field(default_factory=list)

    def dynamodb(self):
        return dynamodb_client(self.standin.port)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _production_hash_user(email: str) -> None:
    # Made with the production hasher, so a login under production settings never
    # rehashes (which would end the account's other sessions mid-run).
    with override_settings(PASSWORD_HASHERS=["accounts.hashers.Argon2PasswordHasher"]):
        services.user_create(email=email, password=PASSWORD, email_verified=True)


@contextmanager
def production_site(tmp_path: Path, *, people: int, posters: int) -> Iterator[Site]:
    """Start the stand-in, make accounts and sessions, serve the site; stop it all after."""
    from _pytest.monkeypatch import MonkeyPatch

    monkeypatch = MonkeyPatch()
    standin = StandIn(free_port(), tmp_path / "dynamodb.json")
    sink = MailSink()
    sink.thread.start()
    gunicorn_process: subprocess.Popen | None = None
    try:
        standin.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{standin.port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        configure_data_layer()
        ensure_all_tables()
        site_sessions = {}
        for n in range(people):
            email = f"person{n}@example.com"
            services.user_create(email=email, password=PASSWORD, email_verified=True)
            client = Client()
            response = client.post("/accounts/login/", {"email": email, "password": PASSWORD})
            assert response.status_code == 302, response.content
            site_sessions[email] = client.cookies[settings.SESSION_COOKIE_NAME].value
        login_accounts = [f"poster{n}@example.com" for n in range(posters)]
        for email in login_accounts:
            _production_hash_user(email)

        env = production_env(
            DJANGO_ALLOWED_HOSTS=HOST,
            # Sessions made above are signed with this process's key.
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
            NEBULA_TABLE_PREFIX=settings.NEBULA_TABLE_PREFIX,
            NEBULA_STATIC_ROOT=str(tmp_path / "static"),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_USE_TLS="false",
        )
        env.update(dynamodb_env(standin.port))
        collected = manage("collectstatic", "--noinput", "-v0", env=env)
        assert collected.returncode == 0, collected.stderr
        port = free_port()
        env.update(
            PORT=str(port),
            NEBULA_BIND_HOST="127.0.0.1",
            WEB_CONCURRENCY=str(WORKERS),
            GUNICORN_THREADS=str(PROOF_THREADS),
            # Nothing to finish at the end of the module: stop in seconds, not 20.
            GUNICORN_GRACEFUL_TIMEOUT="3",
        )
        log = tmp_path / "gunicorn.log"
        with log.open("ab") as out:
            gunicorn_process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=gunicorn_process)
        yield Site(
            port=port,
            log=log,
            standin=standin,
            prefix=settings.NEBULA_TABLE_PREFIX,
            sessions=site_sessions,
            login_accounts=login_accounts,
        )
    finally:
        if gunicorn_process is not None:
            gunicorn_process.terminate()
            try:
                gunicorn_process.wait(30)
            except subprocess.TimeoutExpired:
                gunicorn_process.kill()
                gunicorn_process.wait(10)
        standin.kill()  # SIGKILL ends it even while stopped (SIGSTOP)
        sink.shutdown()
        sink.server_close()
        monkeypatch.undo()
        configure_data_layer()


def wait_until(condition, timeout: float, step: float = 0.02) -> float:
    """Wait until ``condition()`` is true; return when it became so (monotonic)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(step)
    return time.monotonic()
