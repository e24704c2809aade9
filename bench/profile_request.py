"""Profile one page of Nebula in a warm process, with production settings on the stand-in.

    .venv/bin/python -m bench.profile_request [PATH] [--requests N] [--sort tottime]
    .venv/bin/python -m bench.profile_request --memory

Starts the moto stand-in, creates the tables and a user, signs in with Django's
test client (the same handler and middleware as Gunicorn's workers, under
``nebula.settings.production``), warms the page up, then runs it N times under
cProfile and prints the functions that cost the most. ``--memory`` instead
traces allocations from the first import (tracemalloc) and prints what is still
held, by file, after the warm-up: where a worker's resident memory goes.
"""

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import _CREATE_NEBULA_USERS, _manage
from tests.support import free_port, start_standin

HOST = "nebula.example.com"
EMAIL = "profile@example.com"
PASSWORD = "benchmark password phrase 42"


def _environment(standin_port: int, static_root: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "nebula.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "NEBULA_OTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "NEBULA_TABLE_PREFIX": "nebula-profile-",
            "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{standin_port}",
            "AWS_ACCESS_KEY_ID": "profile",
            "AWS_SECRET_ACCESS_KEY": "profile",  # the stand-in takes any key
            "EMAIL_HOST": "smtp.invalid",
            "DEFAULT_FROM_EMAIL": f"no-reply@{HOST}",
            "NEBULA_STATIC_ROOT": static_root,
            "NEBULA_LOG_LEVEL": "WARNING",
            # A shared, loaded machine can make the stand-in slow to create tables.
            "NEBULA_DYNAMODB_READ_TIMEOUT": "10",
        }
    )


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _memory_report(top: int) -> None:
    """Print what tracemalloc saw still held, by package, by traceback, by line."""
    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    print(f"traced, still held: {total / 2**20:.1f} MiB; by package:")
    by_package: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        for marker in ("site-packages/", "lib/python3", str(ROOT) + "/"):
            if marker in name:
                name = name.split(marker, 1)[1]
                break
        key = "/".join(name.split("/")[: 2 if name.startswith("botocore") else 1])
        by_package[key] = by_package.get(key, 0) + stat.size
    for key, size in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {size / 2**20:7.2f} MiB  {key}")
    if os.environ.get("BENCH_TRACE_FRAMES"):
        for stat in snapshot.statistics("traceback")[:6]:
            print(f"  {stat.size / 2**20:7.2f} MiB from:")
            for frame in stat.traceback.format()[-40:]:
                print("     " + frame)
    print("top lines:")
    for stat in snapshot.statistics("lineno")[:15]:
        print(f"  {stat.size / 2**20:7.2f} MiB  {stat.traceback[0]}")


def _profile(client: object, args: argparse.Namespace) -> None:
    """Run the page ``args.requests`` times under cProfile; print the costliest functions."""
    path, requests = args.path, args.requests
    cpu = time.process_time()
    for _ in range(requests):
        client.get(path)
    cpu = time.process_time() - cpu
    print(f"{requests} requests: {cpu * 1000 / requests:.2f} ms CPU per request (no profiler)")
    profiler = cProfile.Profile()
    began = time.perf_counter()
    cpu = time.process_time()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - began
    print(
        f"{requests} requests: {wall * 1000 / requests:.2f} ms wall,"
        f" {cpu * 1000 / requests:.2f} ms CPU per request (under the profiler)"
    )
    if args.output:
        profiler.dump_stats(args.output)
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


def _serve(args: argparse.Namespace) -> None:
    """Set Django up in this process, sign in, warm the page up, then measure it."""
    if args.memory:
        tracemalloc.start(int(os.environ.get("BENCH_TRACE_FRAMES", "1")))
    started_rss = _rss_mib()
    import django

    django.setup()
    from django.test import Client

    client = Client(headers={"Host": HOST, "X-Forwarded-Proto": "https"}, secure=True)
    if not args.anonymous:
        answer = client.post(
            "/accounts/login/", {"email": EMAIL, "password": PASSWORD, "remember": "on"}
        )
        assert answer.status_code == 302, answer.status_code
    after_setup_rss = _rss_mib()
    for _ in range(args.warm):
        status = client.get(args.path).status_code
    print(f"{args.path}: status {status}")
    print(
        f"RSS: {started_rss:.1f} MiB at start, {after_setup_rss:.1f} after setup,"
        f" {_rss_mib():.1f} after {args.warm} requests"
    )
    if args.memory:
        _memory_report(args.top)
    else:
        _profile(client, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="/accounts/profile/")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30, help="requests before measuring (30)")
    parser.add_argument("--sort", default="cumulative", help="pstats order (cumulative)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--output", help="also write the raw profile here (for pstats, snakeviz)")
    parser.add_argument("--anonymous", action="store_true", help="do not sign in")
    parser.add_argument("--memory", action="store_true", help="trace allocations instead")
    args = parser.parse_args()

    port = free_port()
    standin = start_standin(port)
    try:
        with tempfile.TemporaryDirectory(prefix="nebula-profile-") as static_root:
            _environment(port, static_root)
            # Tables, static files and the user are made by other processes, as for
            # Gunicorn's workers: this one only serves pages.
            env = dict(os.environ)
            _manage(env, "migrate", "--noinput")
            _manage(env, "collectstatic", "--noinput", "-v0")
            _manage(
                env, "shell", "-c", _CREATE_NEBULA_USERS.format(emails=[EMAIL], password=PASSWORD)
            )
            _serve(args)
    finally:
        standin.terminate()
        standin.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
