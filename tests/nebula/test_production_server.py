"""Production settings under real Gunicorn: static files, HTTPS, security headers and cookies."""

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


def _csp(header: str) -> dict[str, list[str]]:
    directives = (d.split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in directives}


def test_https_pages_carry_hsts_and_security_headers(production_server) -> None:
    for path in ("/", "/accounts/login/", "/contact/", "/no-such-page/"):
        response = _get(production_server, path, **{"X-Forwarded-Proto": "https"})

        hsts = [p.strip() for p in response.getheader("Strict-Transport-Security").split(";")]
        assert int(hsts[0].removeprefix("max-age=")) >= 365 * 24 * 3600, path
        assert {"includeSubDomains", "preload"} <= set(hsts[1:]), path  # production defaults
        csp = _csp(response.getheader("Content-Security-Policy"))
        assert csp["default-src"] == ["'self'"], path
        # Scripts and styles fall back to default-src: only the site's own files run.
        for directive in ("default-src", "script-src", "style-src"):
            assert "'unsafe-inline'" not in csp.get(directive, []), path
            assert "'unsafe-eval'" not in csp.get(directive, []), path
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["object-src"] == ["'none'"], path
        assert response.getheader("X-Frame-Options") == "DENY", path
        assert response.getheader("X-Content-Type-Options") == "nosniff", path
        assert response.getheader("Referrer-Policy") == "same-origin", path
        assert response.getheader("Cross-Origin-Opener-Policy") == "same-origin", path
        assert response.getheader("Permissions-Policy"), path


def _cookies(response: http.client.HTTPResponse) -> dict[str, set[str]]:
    """Return each cookie set, by name, with its attributes (lower-cased, values dropped)."""
    found = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            cookie, *attributes = (part.strip() for part in value.split(";"))
            found[cookie.split("=", 1)[0]] = {a.lower() for a in attributes}
    return found


def test_cookies_are_secure_httponly_and_same_site(production_server) -> None:
    from accounts import services

    services.user_create(email="ann@example.com", password="correct horse battery staple")
    form = _get(production_server, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    csrf_cookies = _cookies(form)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    csrf = form.getheader("Set-Cookie").split(";")[0]
    connection = http.client.HTTPConnection("127.0.0.1", production_server, timeout=30)
    connection.request(
        "POST",
        "/accounts/login/",
        body=b"email=ann%40example.com&password=correct+horse+battery+staple"
        b"&csrfmiddlewaretoken=" + token,
        headers={
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{HOST}",
            "Cookie": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    login = connection.getresponse()
    login.read()
    connection.close()

    assert login.status == 302
    cookies = {**csrf_cookies, **_cookies(login)}
    # The session, the CSRF token (no script reads it: forms carry it in a hidden
    # field) and the trusted-device cookie: none readable by script, none sent over
    # plain HTTP, none sent on a cross-site POST.
    assert {"sessionid", "csrftoken", "nebula_device"} <= set(cookies)
    for name, attributes in cookies.items():
        assert {"secure", "httponly", "samesite=lax"} <= attributes, name


def test_health_checks_answer_plain_http_from_the_load_balancer(production_server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", production_server, timeout=10)
    connection.request("GET", "/readyz", headers={"Host": "10.0.1.23:8000"})
    response = connection.getresponse()

    assert response.status == 200
    assert response.read() == b'{"status": "ok"}'
