"""Production settings under real Gunicorn: hashed, compressed, long-cached static files."""

import gzip
import http.client
import re

import pytest

from tests.support import dynamodb_env, gunicorn, manage, production_env

pytestmark = pytest.mark.slow

HOST = "nebula.example.com"


@pytest.fixture
def production_server(tmp_path, dynamodb: str):
    """Yield the port of Gunicorn serving production settings (and collected static files)."""
    env = production_env(
        DJANGO_ALLOWED_HOSTS=HOST,
        NEBULA_TABLE_PREFIX="nebula-test-",
        NEBULA_STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(dynamodb_env(int(dynamodb.rsplit(":", 1)[1])))
    collected = manage("collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    with gunicorn(env) as base:
        yield int(base.rsplit(":", 1)[1])


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
