"""What every request gets: an id, one access log line, counted DynamoDB calls, calm errors."""

import json
import logging
import socket
import threading
import time

import pytest
from botocore.awsrequest import AWSResponse
from django.test import Client

from datalayer.calls import counting_calls
from nebula.dynamo.cache import CacheEntry
from nebula.logging import JSONFormatter, RequestContextFilter
from tests.support import free_port


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture):
    """Return the access log lines of the test, as the JSON objects written to stdout."""
    caplog.set_level(logging.INFO, logger="nebula.access")
    formatter = JSONFormatter()

    def lines() -> list[dict]:
        return [
            json.loads(formatter.format(record))
            for record in caplog.records
            if record.name == "nebula.access"
        ]

    return lines


def test_anonymous_home_page_makes_no_dynamodb_call(client: Client, access_lines) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert b"Nebula" in response.content
    [line] = access_lines()
    assert line["dynamodb_calls"] == 0


@pytest.mark.urls("tests.nebula.urls")
def test_access_line_counts_the_calls_a_page_makes(client: Client, access_lines) -> None:
    client.get("/read-one/")

    [line] = access_lines()
    assert line["dynamodb_calls"] == 1
    assert line["method"] == "GET"
    assert line["path"] == "/read-one/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert "time" in line


def test_calls_are_counted_per_context_not_globally() -> None:
    seen: dict[str, int] = {}

    def work(name: str, reads: int) -> None:
        with counting_calls() as calls:
            for _ in range(reads):
                CacheEntry.count("k")
        seen[name] = calls.total

    threads = [threading.Thread(target=work, args=(f"t{i}", i)) for i in range(1, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"t1": 1, "t2": 2, "t3": 3}


def test_request_id_is_taken_from_x_request_id(client: Client, access_lines) -> None:
    response = client.get("/", headers={"X-Request-ID": "abc-123"})

    assert response["X-Request-ID"] == "abc-123"
    assert access_lines()[0]["request_id"] == "abc-123"


def test_request_id_falls_back_to_the_aws_trace_id(client: Client, access_lines) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678"
    response = client.get("/", headers={"X-Amzn-Trace-Id": trace})

    assert response["X-Request-ID"] == trace


def test_unsafe_request_id_is_replaced_by_a_generated_one(client: Client, access_lines) -> None:
    response = client.get("/", headers={"X-Request-ID": "evil\nid <script>"})

    generated = response["X-Request-ID"]
    assert len(generated) == 32
    assert "evil" not in json.dumps(access_lines())


@pytest.mark.parametrize("value", ["abc-123\n", "abc-123\r\n", "\nabc-123"])
def test_a_request_id_with_a_line_break_is_replaced(client: Client, access_lines, value) -> None:
    response = client.get("/", headers={"X-Request-ID": value})

    assert response["X-Request-ID"] != value.strip()
    assert len(response["X-Request-ID"]) == 32
    assert access_lines()[0]["request_id"] == response["X-Request-ID"]


def test_access_log_leaves_out_the_query_string(client: Client, access_lines) -> None:
    client.get("/?token=secret-value")

    assert "secret-value" not in json.dumps(access_lines())


def test_log_records_never_carry_unlisted_fields() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "signed up", None, None)
    record.password = "hunter2"  # as if passed through extra={...}
    RequestContextFilter().filter(record)

    assert "hunter2" not in JSONFormatter().format(record)


def test_missing_page_gets_the_404_page(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.urls("tests.nebula.urls")
def test_a_bug_gets_the_500_page_and_a_logged_traceback(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    client.raise_request_exception = False
    response = client.get("/boom/")

    assert response.status_code == 500
    assert b"went wrong" in response.content
    assert any("a bug" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_unknown_host_gets_the_400_page(client: Client) -> None:
    response = client.get("/", headers={"Host": "evil.example.com"})

    assert response.status_code == 400
    assert b"<html" in response.content


@pytest.mark.urls("tests.nebula.urls")
def test_post_without_csrf_token_gets_the_403_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/post/", {"x": "1"})

    assert response.status_code == 403
    assert b"reload" in response.content.lower()
    assert b"CSRF cookie not set" not in response.content


@pytest.fixture
def unreachable_dynamodb(monkeypatch: pytest.MonkeyPatch):
    """Point every model at a port where nothing listens."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    CacheEntry._connection = None
    yield
    monkeypatch.undo()
    CacheEntry._connection = None


@pytest.fixture
def hung_dynamodb(monkeypatch: pytest.MonkeyPatch):
    """Point every model at a server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{server.getsockname()[1]}")
    CacheEntry._connection = None
    yield
    monkeypatch.undo()
    CacheEntry._connection = None
    server.close()


@pytest.mark.urls("tests.nebula.urls")
@pytest.mark.usefixtures("unreachable_dynamodb")
def test_unreachable_dynamodb_gets_a_503_page_with_retry_after(client: Client) -> None:
    response = client.get("/read-one/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again" in response.content.lower()


@pytest.mark.urls("tests.nebula.urls")
@pytest.mark.usefixtures("hung_dynamodb")
def test_hung_dynamodb_gets_a_503_page_instead_of_pinning_the_worker(client: Client) -> None:
    started = time.monotonic()
    response = client.get("/read-one/")

    assert response.status_code == 503
    # Two attempts of a 1 s read timeout; botocore's defaults would take 240 s.
    assert time.monotonic() - started < 3


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: object):
        yield self._data


@pytest.fixture
def throttling_dynamodb():
    """Make DynamoDB answer every request with ThrottlingException; yield the requests sent."""
    events = CacheEntry._get_connection().connection.client.meta.events
    sent = []

    def answer(request, **_):
        sent.append(request)
        body = b'{"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}'
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Body(body))

    events.register("before-send.dynamodb", answer)
    yield sent
    events.unregister("before-send.dynamodb", answer)


@pytest.mark.urls("tests.nebula.urls")
def test_a_throttled_request_gets_the_503_page_and_stops_calling(
    client: Client, throttling_dynamodb: list, access_lines
) -> None:
    response = client.get("/read-twice/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    # The first read, tried twice by botocore; the second read is never sent.
    assert len(throttling_dynamodb) == 2
    assert access_lines()[-1]["dynamodb_calls"] == 1


@pytest.mark.urls("tests.nebula.urls")
@pytest.mark.usefixtures("unreachable_dynamodb")
def test_a_request_calls_an_unreachable_dynamodb_once(client: Client, access_lines) -> None:
    CacheEntry._get_connection().connection.client  # noqa: B018 - made once per process
    started = time.monotonic()
    response = client.get("/read-twice/")

    assert response.status_code == 503
    assert time.monotonic() - started < 0.5
    assert access_lines()[-1]["dynamodb_calls"] == 1


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
@pytest.mark.usefixtures("unreachable_dynamodb")
def test_a_failure_in_any_middleware_gets_the_503_page(
    client: Client, settings, debug: bool
) -> None:
    # Django turns a middleware's exception into a 500 at once (its debug page
    # under DEBUG); the request met DynamoDB unavailable, so it is a 503.
    settings.DEBUG = debug
    at = settings.MIDDLEWARE.index("nebula.middleware.DynamoDBUnavailableMiddleware") + 1
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:at],
        "tests.nebula.middleware.ReadAfterViewMiddleware",
        *settings.MIDDLEWARE[at:],
    ]
    client.raise_request_exception = False

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again" in response.content.lower()


@pytest.mark.usefixtures("unreachable_dynamodb")
def test_pages_that_need_no_data_keep_answering_during_an_outage(client: Client) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_healthz_says_ok_without_touching_dynamodb(client: Client, access_lines) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert access_lines()[0]["dynamodb_calls"] == 0


def test_readyz_is_ok_when_every_table_exists(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_a_missing_table(client: Client) -> None:
    CacheEntry.delete_table()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reasons"] == ["table nebula-test-cache is missing"]


@pytest.mark.usefixtures("unreachable_dynamodb")
def test_readyz_says_dynamodb_is_unreachable(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reasons"] == ["DynamoDB is unreachable"]
    assert response["Retry-After"] == "5"


def test_health_checks_answer_any_host_header(client: Client) -> None:
    # Load balancers send the task's IP address as the Host.
    response = client.get("/healthz", headers={"Host": "10.0.3.17:8000"})

    assert response.status_code == 200


@pytest.mark.urls("tests.nebula.urls")
@pytest.mark.usefixtures("unreachable_dynamodb")
def test_an_outage_is_one_warning_not_an_error(client: Client, caplog) -> None:
    caplog.set_level(logging.INFO)

    client.get("/read-one/")
    client.get("/readyz")

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("DynamoDB unavailable:") for m in warnings)
    assert "readiness: DynamoDB is unreachable" in warnings
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
