"""``make bench``: startup and page timings, measured side by side in one run.

Reports (no pass/fail: these machines are shared and noisy, so goals are read
from the figures, not asserted in tests):

* warm start: ``python -m local.run`` launched → first page answered (goal < 5 s);
* page latency under real Gunicorn on the moto stand-in: the anonymous home page,
  a signed-in page, and their ratio (the signed-in page makes one DynamoDB read);
* each Lambda handler's cold import against ``import boto3``, and the package's size
  (``bench/lambda_cold.py``).
"""

import http.cookiejar
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import lambda_cold
from tests.support import free_port, wait_for_http

PASSWORD = "benchmark password phrase"


def _start(state_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEBULA_", "AWS_"))},
        "PORT": str(port),
        "NEBULA_STANDIN_PORT": str(free_port()),
        "NEBULA_LOCAL_STATE_DIR": state_dir,
        "NEBULA_RELOAD": "0",
        "NEBULA_LOCAL_ADMIN_PASSWORD": PASSWORD,
        "NEBULA_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(60)


def warm_start(state_dir: str, runs: int = 3) -> list[float]:
    """Seconds from launch to the first page, after one cold start that fills the state."""
    process, base = _start(state_dir)
    wait_for_http(base + "/", timeout=120, process=process)
    _stop(process)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process, base = _start(state_dir)
        wait_for_http(base + "/", timeout=120, process=process)
        times.append(time.perf_counter() - started)
        _stop(process)
    return times


def _opener_signed_in(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(base + "/accounts/login/") as response:
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read())
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "email": "admin@localhost",
            "password": PASSWORD,
            "remember": "on",
        }
    ).encode()
    request = urllib.request.Request(
        base + "/accounts/login/", data=data, headers={"Referer": base + "/accounts/login/"}
    )
    with opener.open(request) as response:
        assert response.url.endswith("/accounts/profile/"), "login failed"
    return opener


def _latencies(opener: urllib.request.OpenerDirector, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with opener.open(url) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def page_latency(state_dir: str, count: int = 200) -> dict[str, list[float]]:
    process, base = _start(state_dir)
    try:
        wait_for_http(base + "/readyz", timeout=120, process=process)
        anonymous = urllib.request.build_opener()
        # The local admin is made just after the tables: it may lag /readyz a little.
        for _ in range(40):
            try:
                signed_in = _opener_signed_in(base)
                break
            except AssertionError:
                time.sleep(0.25)
        else:
            raise SystemExit("bench: could not log in as the local admin")
        # Interleave the two, so both see the same machine load.
        results: dict[str, list[float]] = {"anonymous /": [], "signed-in /accounts/profile/": []}
        for _ in range(count // 20):
            results["anonymous /"] += _latencies(anonymous, base + "/", 20)
            results["signed-in /accounts/profile/"] += _latencies(
                signed_in, base + "/accounts/profile/", 20
            )
        return results
    finally:
        _stop(process)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="nebula-bench-") as state_dir:
        starts = warm_start(state_dir)
        pages = page_latency(state_dir)
    print("\nwarm start (launch → first page), seconds")
    runs = ", ".join(f"{t:.2f}" for t in starts)
    print(f"  runs: {runs}   median {statistics.median(starts):.2f}   goal < 5")
    print("\npage latency under Gunicorn on the stand-in, ms (200 requests each, interleaved)")
    medians = {}
    for name, values in pages.items():
        medians[name] = statistics.median(values)
        print(f"  {name:32} median {medians[name]:6.2f}   p95 {_p95(values):6.2f}")
    anonymous, signed_in = medians.values()
    print(f"  ratio signed-in / anonymous (medians): {signed_in / anonymous:.2f}")
    lambda_cold.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
