"""Production settings under real Gunicorn: hashed, compressed, long-cached static files."""

import gzip
import http.client
import re
import secrets
import subprocess
import sys

import pytest

from tests.support import ROOT, dynamodb_env, free_port, wait_for_http

pytestmark = pytest.mark.slow

HOST = "nebula.example.com"


@pytest.fixture
def production_server(tmp_path, dynamodb: str):
    port = free_port()
    env = {
        **dynamodb_env(int(dynamodb.rsplit(":", 1)[1])),
        "DJANGO_SETTINGS_MODULE": "nebula.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "NEBULA_TABLE_PREFIX": "nebula-test-",
        "EMAIL_HOST": "127.0.0.1",
        "DEFAULT_FROM_EMAIL": "nebula@example.com",
        "NEBULA_STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "NEBULA_BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=process)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": HOST, **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_static_files_are_hashed_compressed_and_cached_for_a_year(production_server) -> None:
    page = _get(production_server, "/", **{"X-Forwarded-Proto": "https"})
    assert page.status == 200
    [css] = re.findall(rb'href="(/static/css/nebula\.[0-9a-f]{12}\.css)"', page.body)

    response = _get(
        production_server, css.decode(), **{"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}
    )

    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert b"--" in gzip.decompress(response.body)  # CSS custom properties
    cache_control = response.getheader("Cache-Control")
    assert "immutable" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 365 * 24 * 3600


def test_plain_http_is_redirected_to_https(production_server) -> None:
    response = _get(production_server, "/")

    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_https_pages_carry_hsts_and_security_headers(production_server) -> None:
    response = _get(production_server, "/", **{"X-Forwarded-Proto": "https"})

    assert "max-age=31536000" in response.getheader("Strict-Transport-Security")
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_health_checks_answer_plain_http_from_the_load_balancer(production_server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", production_server, timeout=10)
    connection.request("GET", "/readyz", headers={"Host": "10.0.1.23:8000"})
    response = connection.getresponse()

    assert response.status == 200
    assert response.read() == b'{"status": "ok"}'
