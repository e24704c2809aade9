"""Helpers shared by the tests: free ports, the moto server, waiting for HTTP."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config

from local.run import wait_for_line

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> int:
    """Wait until ``url`` answers with any HTTP status; return that status."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            last_error = exc
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s: {last_error}")


def start_standin(port: int, *args: str) -> subprocess.Popen:
    """Start ``local.standin`` (the moto server) on ``port`` and wait until it is ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "local.standin", "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    wait_for_line(process, b"READY", "the stand-in", timeout=60)
    return process


@contextmanager
def gunicorn(env: dict[str, str], log: Path | None = None) -> Iterator[str]:
    """Serve the site with real Gunicorn (``nebula.gunicorn_conf``); yield its base URL.

    The site's log lines (the access log among them) go to ``log`` if given.
    """
    port = free_port()
    env = {**env, "PORT": str(port), "NEBULA_BIND_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"}
    stdout = log.open("ab") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf"],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
    )
    if log is not None:
        stdout.close()  # the child has its own copy
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", timeout=60, process=process)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command in the checkout; capture its output as text."""
    return subprocess.run(
        list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with these arguments in a child process."""
    return run(sys.executable, "manage.py", *args, env=env)


# What production settings require (docs/configuration.md), with harmless values.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "nebula.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "nebula.example.com",
    "NEBULA_TABLE_PREFIX": "nebula-prod-",
    "AWS_REGION": "eu-west-1",
    "EMAIL_HOST": "email-smtp.eu-west-1.amazonaws.com",
    "DEFAULT_FROM_EMAIL": "Nebula <no-reply@nebula.example.com>",
    "NEBULA_OTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
}


def production_env(**overrides: str | None) -> dict[str, str]:
    """Return this environment with production settings; ``None`` removes a variable."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.update(PRODUCTION)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def dynamodb_client(port: int, config: Config | None = None):
    """Return a DynamoDB client for the moto server on ``port``."""
    return boto3.client("dynamodb", config=config, **_endpoint(port))


def dynamodb_table(port: int, name: str):
    """Return a boto3 Table on the moto server on ``port``."""
    return boto3.resource("dynamodb", **_endpoint(port)).Table(name)


def _endpoint(port: int) -> dict[str, str]:
    return {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "region_name": "eu-west-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


def descendants(pid: int) -> set[int]:
    """Return the ids of every living process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces; the fields after ")" are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    """Return True if ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def dynamodb_env(port: int) -> dict[str, str]:
    """Return the variables that point botocore at the moto server on ``port``."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "eu-west-1",
    }
