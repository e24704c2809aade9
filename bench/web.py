"""The web tier, side by side: Nebula and a plain Django site under the same Gunicorn.

Nebula runs with production settings against the moto stand-in
(``local.standin``); the baseline (``bench/baseline/``) is a plain Django 5.2
site on SQLite. Both are served by ``gunicorn -c python:nebula.gunicorn_conf``
with the same workers and threads, behind the headers a TLS-terminating load
balancer adds (``X-Forwarded-Proto: https``, ``X-Forwarded-For``).

For each page a load generator on loopback (threads, one keep-alive connection
each) alternates between the two sites in short rounds, so both see the same
machine load, and records:

* requests/s and p50/p99 latency as the client saw them;
* CPU milliseconds per request of the Gunicorn workers alone (utime + stime of
  the master's children from ``/proc/<pid>/stat``; the stand-in and the load
  generator are other processes);
* DynamoDB calls per request, from Nebula's access log (``dynamodb_calls``);

and, after the load, each worker's resident memory (RSS, and PSS and USS from
``/proc/<pid>/smaps_rollup``: what a worker costs when pages are shared).
"""

import contextlib
import http.client
import http.cookies
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import descendants, free_port, start_standin, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
HOST = "nebula.example.com"
PASSWORD = "benchmark password phrase 42"
PAGES_USER = "pages@example.com"
LOGIN_USER = "login@example.com"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---- Processes -------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """Return utime + stime of ``pid`` (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory(pid: int) -> dict[str, float]:
    """Return RSS, PSS and USS of ``pid`` in MiB (PSS and USS where the kernel has them)."""
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            figures["rss"] = int(line.split()[1]) / 1024
    with contextlib.suppress(OSError):
        rollup = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            rollup[name] = int(value.split()[0])
        figures["pss"] = rollup["Pss"] / 1024
        figures["uss"] = (rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024
    return figures


@dataclass
class Site:
    """One Gunicorn serving one site; its workers are the master's children."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path | None = None

    def workers(self) -> list[int]:
        """Return the ids of the master's worker processes."""
        return sorted(descendants(self.process.pid))

    def worker_cpu(self) -> float:
        """Return the CPU seconds the workers have used so far."""
        total = 0.0
        for pid in self.workers():
            with contextlib.suppress(OSError):
                total += _cpu_seconds(pid)
        return total

    def log_offset(self) -> int:
        return self.log.stat().st_size if self.log else 0

    def access_lines(self, start: int) -> list[dict]:
        """Return the access log records written since offset ``start``."""
        if self.log is None:
            return []
        with self.log.open("rb") as stream:
            stream.seek(start)
            text = stream.read().decode(errors="replace")
        records = []
        for line in text.splitlines():
            if '"dynamodb_calls"' not in line:
                continue
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        return records


def _gunicorn(env: dict[str, str], *app: str, log: Path | None = None) -> Site:
    port = free_port()
    env = {**env, "PORT": str(port), "NEBULA_BIND_HOST": "127.0.0.1"}
    stdout = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf", *app],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
    )
    if log:
        stdout.close()
    wait_for_http(f"http://127.0.0.1:{port}/static/favicon.svg", timeout=90, process=process)
    return Site(name="", process=process, port=port, log=log)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise SystemExit(f"bench: {what} failed:\n{result.stdout}{result.stderr}")


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # A shared, loaded machine can make the stand-in slow to create tables.
        env={**env, "NEBULA_DYNAMODB_READ_TIMEOUT": "10"},
        capture_output=True,
        text=True,
        check=False,
    )
    _check(result, "manage.py " + " ".join(args[:1]))


def _common_env(work: Path, concurrency: int, threads: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "NEBULA_", "AWS_", "GUNICORN_", "WEB_CONCURRENCY"))
    }
    return {
        **env,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "WEB_CONCURRENCY": str(concurrency),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
        # As in the container image (Dockerfile): freed hash memory goes back at once.
        "MALLOC_MMAP_THRESHOLD_": "131072",
        "NEBULA_STATIC_ROOT": str(work / "static"),
    }


_CREATE_NEBULA_USERS = """
from accounts import services
for email in {emails!r}:
    services.user_create(email=email, password={password!r}, display_name="Bench",
                         email_verified=True)
"""

_CREATE_BASELINE_USERS = """
from django.contrib.auth.models import User
for email in {emails!r}:
    User.objects.create_user(username=email, email=email, password={password!r},
                             first_name="Bench")
"""


MEDIA_BUCKET = "nebula-bench-media"


def _create_bucket(standin_port: int) -> None:
    import boto3

    boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{standin_port}",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the stand-in takes any key
    ).create_bucket(
        Bucket=MEDIA_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )


@contextlib.contextmanager
def nebula(work: Path, concurrency: int, threads: int) -> Iterator[tuple[Site, Site]]:
    """Start the stand-in and Nebula (production settings); yield (nebula, stand-in)."""
    standin_port = free_port()
    standin = start_standin(standin_port)
    try:
        env = {
            **_common_env(work / "nebula", concurrency, threads),
            "DJANGO_SETTINGS_MODULE": "nebula.settings.production",
            "NEBULA_OTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            "NEBULA_TABLE_PREFIX": "nebula-bench-",
            "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{standin_port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",  # the stand-in takes any key
            # Uploads on, as in production: the profile page shows its picture form.
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{standin_port}",
            "NEBULA_MEDIA_BUCKET": MEDIA_BUCKET,
            "EMAIL_HOST": "smtp.invalid",
            "DEFAULT_FROM_EMAIL": f"no-reply@{HOST}",
            # The login benchmark signs in many times a minute from one address.
            "NEBULA_RATE_LOGIN_IP": "100000/m",
        }
        _manage(env, "migrate", "--noinput")
        _manage(env, "collectstatic", "--noinput", "-v0")
        _create_bucket(standin_port)
        _manage(
            env,
            "shell",
            "-c",
            _CREATE_NEBULA_USERS.format(emails=[PAGES_USER, LOGIN_USER], password=PASSWORD),
        )
        site = _gunicorn(env, log=work / "nebula.log")
        site.name = "Nebula"
        try:
            yield site, Site(name="stand-in", process=standin, port=standin_port)
        finally:
            _stop(site.process)
    finally:
        _stop(standin)


@contextlib.contextmanager
def baseline(work: Path, concurrency: int, threads: int) -> Iterator[Site]:
    """Start the plain Django site on a fresh SQLite database; yield it."""
    env = {
        **_common_env(work / "baseline", concurrency, threads),
        "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
        "BENCH_BASELINE_DB": str(work / "baseline.sqlite3"),
    }

    def django(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        _check(result, "django-admin " + args[0])

    django("migrate", "--run-syncdb", "-v0")
    django("collectstatic", "--noinput", "-v0")
    django(
        "shell",
        "-c",
        _CREATE_BASELINE_USERS.format(emails=[PAGES_USER, LOGIN_USER], password=PASSWORD),
    )
    site = _gunicorn(env, "bench.baseline.wsgi:application")
    site.name = "baseline"
    try:
        yield site
    finally:
        _stop(site.process)


# ---- The load generator ------------------------------------------------------------------


class Client:
    """One keep-alive connection to a site, with its own cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, str] | None = None,
        *,
        cookies: dict[str, str] | None = None,
        keep: bool = True,
    ) -> tuple[int, bytes]:
        """Send one request as a browser behind the load balancer; return status and body."""
        jar = self.cookies if cookies is None else cookies
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "127.0.0.1",
            "User-Agent": USER_AGENT,
            "Accept": "text/html",
        }
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}"
            headers["Referer"] = f"https://{HOST}{path}"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # The server closed an idle keep-alive connection: open a new one.
                self.connection.close()
                if attempt == 2:
                    raise
        if keep:
            for header in response.msg.get_all("Set-Cookie") or []:
                cookie = http.cookies.SimpleCookie(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return response.status, content

    def csrf_token(self, path: str) -> str:
        status, content = self.request("GET", path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or match is None:
            raise SystemExit(f"bench: no CSRF token on {path} (status {status})")
        return match.group(1).decode()

    def log_in(self, email: str) -> None:
        token = self.csrf_token("/accounts/login/")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "email": email, "password": PASSWORD, "remember": "on"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"bench: could not log in as {email} (status {status})")


@dataclass
class Page:
    """A measured request: how each thread prepares, and what one request is."""

    name: str
    method: str
    path: str
    expect: int
    route: str
    prepare: Callable[[Client], Callable[[], tuple[int, bytes]]]
    requests: int | None = None  # a fixed count per thread and round, instead of a duration


def _get(path: str, *, email: str | None) -> Callable[[Client], Callable[[], tuple[int, bytes]]]:
    def prepare(client: Client) -> Callable[[], tuple[int, bytes]]:
        if email:
            client.log_in(email)
        else:
            client.cookies.clear()
        return lambda: client.request("GET", path, keep=False)

    return prepare


def _login_post(client: Client) -> Callable[[], tuple[int, bytes]]:
    # One CSRF cookie and token for every POST; no session cookie: each POST
    # is a fresh sign-in (Argon2 check, new session written).
    client.cookies.clear()
    token = client.csrf_token("/accounts/login/")
    cookies = {"csrftoken": client.cookies["csrftoken"]}
    body = {"csrfmiddlewaretoken": token, "email": LOGIN_USER, "password": PASSWORD}
    return lambda: client.request("POST", "/accounts/login/", body, cookies=cookies, keep=False)


PAGES = [
    Page("home (anonymous)", "GET", "/", 200, "/", _get("/", email=None)),
    Page(
        "profile (signed in)",
        "GET",
        "/accounts/profile/",
        200,
        "/accounts/profile/",
        _get("/accounts/profile/", email=PAGES_USER),
    ),
    Page(
        "sessions (signed in)",
        "GET",
        "/accounts/sessions/",
        200,
        "/accounts/sessions/",
        _get("/accounts/sessions/", email=PAGES_USER),
    ),
    Page("login POST", "POST", "/accounts/login/", 302, "/accounts/login/", _login_post, 6),
]


@dataclass
class Figures:
    """What one site did on one page, summed over the rounds."""

    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    errors: int = 0
    dynamodb_calls: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | None]:
        n = len(self.latencies_ms)
        ordered = sorted(self.latencies_ms)
        return {
            "requests": n,
            "errors": self.errors,
            "requests_per_second": n / self.seconds if self.seconds else 0.0,
            "p50_ms": statistics.median(ordered) if n else None,
            "p99_ms": ordered[min(n - 1, int(n * 0.99))] if n else None,
            "cpu_ms_per_request": self.cpu_seconds * 1000 / n if n else None,
            "dynamodb_calls_per_request": (
                statistics.mean(self.dynamodb_calls) if self.dynamodb_calls else None
            ),
            "dynamodb_calls_max": max(self.dynamodb_calls) if self.dynamodb_calls else None,
        }


def _round(site: Site, page: Page, threads: int, seconds: float, figures: Figures) -> None:
    """Load ``site`` with ``page`` from ``threads`` clients for ``seconds`` (or a count)."""
    clients = [Client(site.port) for _ in range(threads)]
    sends = [page.prepare(client) for client in clients]
    for send in sends:  # one warm request each, outside the measurement
        send()
    results: list[list[float]] = [[] for _ in clients]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def run(index: int) -> None:
        send = sends[index]
        start.wait()
        done = 0
        while (done < page.requests) if page.requests else (time.perf_counter() < deadline):
            began = time.perf_counter()
            status, _ = send()
            results[index].append((time.perf_counter() - began) * 1000)
            if status != page.expect:
                errors[index] += 1
            done += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    offset = site.log_offset()
    cpu_before = site.worker_cpu()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    cpu_after = site.worker_cpu()
    for client in clients:
        client.connection.close()
    figures.seconds += elapsed
    figures.cpu_seconds += cpu_after - cpu_before
    for values in results:
        figures.latencies_ms += values
    figures.errors += sum(errors)
    for record in site.access_lines(offset):
        if record.get("path") == page.route and record.get("method") == page.method:
            figures.dynamodb_calls.append(int(record["dynamodb_calls"]))


def measure(
    sites: list[Site], *, rounds: int, seconds: float, threads: int, report: Callable[[str], None]
) -> dict[str, dict[str, dict]]:
    """Run every page on every site in alternating rounds; return figures per page and site."""
    results: dict[str, dict[str, dict]] = {}
    for page in PAGES:
        figures = {site.name: Figures() for site in sites}
        for number in range(rounds):
            # Alternate who goes first, so neither always meets the other's aftermath.
            order = sites if number % 2 == 0 else list(reversed(sites))
            for site in order:
                _round(site, page, threads, seconds, figures[site.name])
        results[page.name] = {name: f.summary() for name, f in figures.items()}
        report(page.name + ": " + _one_line(results[page.name]))
    return results


def _one_line(per_site: dict[str, dict]) -> str:
    return "; ".join(
        f"{name} {s['cpu_ms_per_request']:.2f} CPU ms/req, {s['requests_per_second']:.0f} req/s"
        + (f", {s['errors']} errors" if s["errors"] else "")
        for name, s in per_site.items()
    )


def worker_memory(site: Site) -> dict:
    """Return each worker's memory and the mean (MiB), and the master's."""
    workers = [memory(pid) for pid in site.workers()]
    mean = {key: statistics.mean(w[key] for w in workers) for key in workers[0]}
    return {"workers": workers, "mean": mean, "master": memory(site.process.pid)}


def run(
    *,
    rounds: int = 3,
    seconds: float = 4.0,
    threads: int = 4,
    concurrency: int = 2,
    gthreads: int = 4,
) -> dict:
    """Measure both sites side by side; return every figure."""
    report = lambda line: print("  " + line, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="nebula-bench-web-") as folder:
        work = Path(folder)
        with (
            nebula(work, concurrency, gthreads) as (site, _),
            baseline(work, concurrency, gthreads) as plain,
        ):
            print(
                f"  serving: Nebula on :{site.port}, baseline on :{plain.port}"
                f" ({concurrency} workers x {gthreads} threads each)",
                flush=True,
            )
            pages = measure(
                [site, plain], rounds=rounds, seconds=seconds, threads=threads, report=report
            )
            memory_figures = {s.name: worker_memory(s) for s in (site, plain)}
            if os.environ.get("BENCH_KEEP_LOG"):
                shutil.copy(site.log, os.environ["BENCH_KEEP_LOG"])
    return {
        "configuration": {
            "workers": concurrency,
            "threads_per_worker": gthreads,
            "client_threads": threads,
            "rounds": rounds,
            "seconds_per_round": seconds,
            "login_posts_per_thread_and_round": PAGES[-1].requests,
        },
        "pages": pages,
        "memory": memory_figures,
    }
