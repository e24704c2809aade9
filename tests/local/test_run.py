"""The real run path: ``python -m local.run`` (what ``make run`` starts)."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from tests.support import (
    ROOT,
    alive,
    descendants,
    dynamodb_table,
    free_port,
    run,
    wait_for_http,
)

pytestmark = pytest.mark.slow


def _run_env(
    tmp_path, port: int, standin_port: int, gateway_port: int | None = None
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_ENDPOINT_URL", "DJANGO_", "NEBULA_"))
    }
    env.update(
        PORT=str(port),
        NEBULA_STANDIN_PORT=str(standin_port),
        NEBULA_GATEWAY_PORT=str(gateway_port or free_port()),
        NEBULA_LOCAL_STATE_DIR=str(tmp_path / "state"),
    )
    return env


def _start(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def _wait_until_running(log_path, process: subprocess.Popen, *, banners: int) -> None:
    """Wait for the ``banners``-th "Nebula is running" line: the site is ready to use."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        if log_path.read_text().count("Nebula is running on") >= banners:
            return
        time.sleep(0.1)
    raise TimeoutError(log_path.read_text())


def _stop(process: subprocess.Popen) -> set[int]:
    """SIGTERM the runner as a supervisor would; return the processes it had started."""
    started = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    return started


def _table(standin_port: int):
    return dynamodb_table(standin_port, "nebula-local-cache")


def test_run_serves_the_site_stops_everything_and_keeps_data(tmp_path) -> None:
    port, standin_port, gateway_port = free_port(), free_port(), free_port()
    env = _run_env(tmp_path, port, standin_port, gateway_port)
    log_path = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    gateway = f"http://127.0.0.1:{gateway_port}"

    with log_path.open("w") as log:
        process = _start(env, log)
        try:
            _wait_until_running(log_path, process, banners=1)
            assert wait_for_http(f"{base}/readyz", timeout=10, process=process) == 200
            assert f"jobs API (local gateway): {gateway}/v1" in log_path.read_text()
            assert wait_for_http(f"{gateway}/openapi.json", timeout=10) == 200
            # The gateway refuses what AWS_IAM refuses: an unsigned call.
            assert wait_for_http(f"{gateway}/v1/jobs", timeout=10) == 403
            with urllib.request.urlopen(f"{base}/", timeout=10) as response:
                assert response.status == 200
                assert b"Nebula" in response.read()
            _table(standin_port).put_item(
                Item={"key": "kept-across-restarts", "expires": int(time.time()) + 3600}
            )
        finally:
            started = _stop(process)
    assert len(started) >= 4, "expected the stand-in, the gateway, Gunicorn and its workers"
    assert [pid for pid in started if alive(pid)] == [], log_path.read_text()
    first_log = log_path.read_text()
    assert "Local admin admin@localhost created." in first_log
    password = re.search(r"with password: (\S+)", first_log).group(1)

    with log_path.open("a") as log:
        process = _start(env, log)
        try:
            _wait_until_running(log_path, process, banners=2)
            assert wait_for_http(f"{base}/readyz", timeout=10, process=process) == 200
            item = _table(standin_port).get_item(Key={"key": "kept-across-restarts"})
            assert "Item" in item, log_path.read_text()
            assert _logs_in(base, "admin@localhost", password)
        finally:
            started = _stop(process)
    assert [pid for pid in started if alive(pid)] == []


def _logs_in(base: str, email: str, password: str) -> bool:
    """Log in through the real login form; return whether the profile page opened."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read()).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.decode(), "email": email, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=10) as response:
        return response.url.endswith("/accounts/profile/") and b"Local admin" in response.read()


def test_run_refuses_a_busy_port_in_one_line(tmp_path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(sys.executable, "-m", "local.run", env=_run_env(tmp_path, port, free_port()))

    assert result.returncode == 1
    assert result.stderr.strip() == f"run: port {port} is in use; set PORT to another port"
