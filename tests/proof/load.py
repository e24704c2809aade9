"""A load generator on loopback: threads, each with one keep-alive ``http.client`` connection.

Each thread repeats a *scenario* (a function of a :class:`Browser`) until told to stop,
and every request is recorded (when it started and ended, what it asked, what came
back). Nothing here asserts: the tests read the records.
"""

import html
import http.client
import itertools
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HOST = "nebula.example.com"
ORIGIN = f"https://{HOST}"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Distinct client addresses, as the load balancer reports them in X-Forwarded-For:
# the per-address rate limits see many people, not one.
_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))
_address_lock = threading.Lock()


def next_address() -> str:
    with _address_lock:
        return next(_addresses)


@dataclass
class Record:
    """One request and its answer."""

    kind: str
    method: str
    path: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all (connection refused, reset...)
    headers: dict[str, str]
    body: bytes
    error: str = ""

    @property
    def elapsed(self) -> float:
        return self.ended - self.started


class Gate:
    """Lets requests through, many at once, until a test closes it for a moment."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._passing = 0
        self._closed = False

    @contextmanager
    def passing(self) -> Iterator[None]:
        with self._condition:
            while self._closed:
                self._condition.wait()
            self._passing += 1
        try:
            yield
        finally:
            with self._condition:
                self._passing -= 1
                self._condition.notify_all()

    @contextmanager
    def closed(self) -> Iterator[None]:
        """Wait for the requests in flight to end; hold new ones until the block ends."""
        with self._condition:
            self._closed = True
            while self._passing:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._closed = False
                self._condition.notify_all()


@dataclass
class Recorder:
    """Every request of a run, shared by its threads."""

    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: Gate = field(default_factory=Gate)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def histogram(self) -> dict[str, Counter]:
        by_kind: dict[str, Counter] = {}
        for record in self.records:
            by_kind.setdefault(record.kind, Counter())[record.status] += 1
        return by_kind


class Browser:
    """One client: one keep-alive connection, its own cookies, behind the load balancer."""

    def __init__(self, port: int, recorder: Recorder, kind: str, cookies: dict | None = None):
        self.port = port
        self.recorder = recorder
        self.kind = kind
        self.cookies: dict[str, str] = dict(cookies or {})
        self.address = next_address()
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Record:
        with self.recorder.gate.passing():
            return self._request(method, path, form)

    def _request(self, method: str, path: str, form: dict[str, str] | None) -> Record:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "User-Agent": f"nebula-proof/{self.kind}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = ORIGIN
            headers["Referer"] = ORIGIN + path
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # The server closed an idle keep-alive connection: open another, once.
                self.close()
                if attempt == 2:
                    return self._record(method, path, started, 0, {}, b"", error=repr(exc))
                continue
            except OSError as exc:
                self.close()
                return self._record(method, path, started, 0, {}, b"", error=repr(exc))
            break
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, attributes = value.partition(";")
                cookie_name, _, cookie_value = cookie.partition("=")
                if "max-age=0" in attributes.lower() or not cookie_value.strip('"'):
                    self.cookies.pop(cookie_name.strip(), None)
                else:
                    self.cookies[cookie_name.strip()] = cookie_value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return self._record(
            method, path, started, response.status, dict(response.getheaders()), data
        )

    def _record(self, *answer: object, error: str = "") -> Record:
        method, path, started, status, headers, body = answer
        record = Record(
            self.kind, method, path, started, time.monotonic(), status, headers, body, error
        )
        self.recorder.add(record)
        return record

    def csrf_token(self, path: str) -> str | None:
        """GET a form page; return its CSRF token (None when it did not answer 200)."""
        page = self.request("GET", path)
        if page.status != 200:
            return None
        found = _CSRF_INPUT.search(page.body.decode())
        return html.unescape(found.group(1)) if found else None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def run_load(
    scenarios: list[Callable[[threading.Event], None]], duration: float
) -> tuple[float, list[BaseException]]:
    """Run each scenario in a thread of its own for ``duration`` seconds; return the time taken.

    A scenario is called with a stop event and loops until it is set. Exceptions a
    scenario raises are collected and returned (a test fails on them).
    """
    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded(scenario: Callable[[threading.Event], None]) -> None:
        try:
            scenario(stop)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(s,), daemon=True) for s in scenarios]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(60)
    return time.monotonic() - started, errors


def print_summary(title: str, recorder: Recorder, seconds: float) -> None:
    """Print requests per second and the status histogram (pytest shows it with -s or -rP)."""
    total = len(recorder.records)
    print(f"\n{title}: {total} requests in {seconds:.1f} s = {total / seconds:.1f} requests/s")
    for kind, counts in sorted(recorder.histogram().items()):
        line = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(counts.items()))
        print(f"  {kind}: {line}")
