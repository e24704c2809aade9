"""``make bench``: Nebula's figures, measured side by side in one run.

    .venv/bin/python -m bench.run [--rounds N] [--seconds S] [--skip-start] [--skip-lambda]
                                  [--skip-container]

No pass/fail (the machines are shared and noisy: goals are read from the
figures, never asserted in ``make test``). Reports:

* the web tier: Nebula under real Gunicorn with production settings on the moto
  stand-in against a plain Django site (``bench/baseline/``) under the same
  Gunicorn configuration: requests/s, p50/p99, worker CPU ms per request,
  DynamoDB calls per request, worker memory, and the ratios (``bench/web.py``);
* warm start: ``python -m local.run`` launched → first page answered (goal < 5 s);
* each Lambda handler's cold import against ``import boto3``, and the package's
  size (``bench/lambda_cold.py``);
* the container image's size and start-to-healthy (``bench/container.py``).

Results go to ``bench/results/<UTC time>.md`` and ``.json``, and
``bench/results/latest.md`` (git-ignored; ``docs/performance.md`` quotes a run).
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import container, lambda_cold, web
from tests.support import free_port, wait_for_http

PASSWORD = "benchmark password phrase"
RESULTS = ROOT / "bench" / "results"


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


def machine() -> dict:
    """Describe the machine: CPUs, their model, memory, Python, load when the run began."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
    }


def _ratio(nebula: float | None, plain: float | None) -> str:
    return f"{nebula / plain:.2f}×" if nebula and plain else "–"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(results: dict) -> str:
    """Return the results as Markdown tables."""
    m = results["machine"]
    lines = [
        f"# make bench, {results['time']}",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, Python"
        f" {m['python']}, load average {m['load_average'][0]:.1f} at the start; commit"
        f" {m['commit']}.",
    ]
    web_figures = results.get("web")
    if web_figures:
        c = web_figures["configuration"]
        lines += [
            "",
            "## Web tier: Nebula (production settings, moto stand-in) vs plain Django (SQLite)",
            "",
            f"Gunicorn gthread, {c['workers']} workers × {c['threads_per_worker']} threads for"
            f" both; {c['client_threads']} keep-alive client threads; {c['rounds']} alternating"
            f" rounds of {c['seconds_per_round']:g} s per page and site (login:"
            f" {c['login_posts_per_thread_and_round']} POSTs per thread and round). CPU: the"
            " Gunicorn workers' own (utime + stime), the stand-in's excluded.",
            "",
            "| page | CPU ms/req Nebula | baseline | **ratio** | req/s Nebula | baseline"
            " | p50 / p99 ms Nebula | baseline | DynamoDB calls/req |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for page, sites in web_figures["pages"].items():
            n, b = sites["Nebula"], sites["baseline"]
            calls = n["dynamodb_calls_per_request"]
            calls_text = "–" if calls is None else f"{calls:.2f} (max {n['dynamodb_calls_max']})"
            errors = n["errors"] + b["errors"]
            lines.append(
                f"| {page}{f' ({errors} errors)' if errors else ''}"
                f" | {n['cpu_ms_per_request']:.2f} | {b['cpu_ms_per_request']:.2f}"
                f" | **{_ratio(n['cpu_ms_per_request'], b['cpu_ms_per_request'])}**"
                f" | {n['requests_per_second']:.0f} | {b['requests_per_second']:.0f}"
                f" | {_ms(n['p50_ms'])} / {_ms(n['p99_ms'])}"
                f" | {_ms(b['p50_ms'])} / {_ms(b['p99_ms'])}"
                f" | {calls_text} |"
            )
        lines += [
            "",
            "| worker memory after the load, MiB (mean per worker) | Nebula | baseline"
            " | **ratio** |",
            "|---|---|---|---|",
        ]
        nm, bm = web_figures["memory"]["Nebula"]["mean"], web_figures["memory"]["baseline"]["mean"]
        for key, label in (("rss", "RSS"), ("pss", "PSS"), ("uss", "USS (private)")):
            if key in nm and key in bm:
                lines.append(
                    f"| {label} | {nm[key]:.1f} | {bm[key]:.1f} | **{_ratio(nm[key], bm[key])}** |"
                )
        masters = [web_figures["memory"][s]["master"].get("rss", 0) for s in ("Nebula", "baseline")]
        lines.append(f"| Gunicorn master RSS | {masters[0]:.1f} | {masters[1]:.1f} | |")
    starts = results.get("warm_start_s")
    if starts:
        lines += [
            "",
            f"Warm start (`python -m local.run` → first page): median"
            f" {statistics.median(starts):.2f} s (runs {', '.join(f'{t:.2f}' for t in starts)});"
            " goal < 5 s.",
        ]
    lam = results.get("lambda")
    if lam:
        lines += [
            "",
            f"## Lambda (median of {lam['runs']} fresh `{lam['python']} -S` imports)",
            "",
            "| module | cold import ms | × `import boto3` |",
            "|---|---|---|",
        ]
        for module, median in lam["import_ms_median"].items():
            lines.append(f"| `{module}` | {median:.0f} | {lam['ratio_to_boto3'][module]:.2f} |")
        lines += ["", f"Package (zip): {lam['package_mb']:.1f} MB (goal < 15)."]
    box = results.get("container")
    if box:
        lines += ["", "## Container", ""]
        if "note" in box:
            lines.append(box["note"] + ".")
        else:
            lines.append(
                f"Image `{box['image']}` (built {box['image_created'][:19]}):"
                f" {box['image_size_mb']:.0f} MB; start to healthy median"
                f" {box['start_to_healthy_median_s']:.2f} s"
                f" (runs {', '.join(f'{t:.2f}' for t in box['start_to_healthy_s'])})."
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per page (3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per round (5)")
    parser.add_argument("--workers", type=int, default=2, help="Gunicorn workers per site (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--skip-start", action="store_true", help="no warm-start figures")
    parser.add_argument("--skip-lambda", action="store_true")
    parser.add_argument("--skip-container", action="store_true")
    args = parser.parse_args(argv)

    now = datetime.now(UTC)
    results: dict = {"time": now.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    if not args.skip_web:
        print("web tier, side by side:", flush=True)
        results["web"] = web.run(
            rounds=args.rounds,
            seconds=args.seconds,
            concurrency=args.workers,
            gthreads=args.threads,
        )
    if not args.skip_start:
        print("warm start of make run...", flush=True)
        with tempfile.TemporaryDirectory(prefix="nebula-bench-") as state_dir:
            results["warm_start_s"] = warm_start(state_dir)
    if not args.skip_lambda:
        print("Lambda cold imports...", flush=True)
        results["lambda"] = lambda_cold.summary()
    if not args.skip_container:
        print("container...", flush=True)
        results["container"] = container.measure()

    text = markdown(results)
    RESULTS.mkdir(exist_ok=True)
    stem = now.strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    print()
    print(text)
    print(f"written: {RESULTS.relative_to(ROOT)}/{stem}.md, .json and latest.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
