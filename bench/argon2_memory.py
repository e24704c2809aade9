"""Peak memory of a process hashing passwords concurrently (docs/operations.md).

    .venv/bin/python -m bench.argon2_memory [LOGINS] [THREADS]

For each case, a fresh process starts Django (test settings: no AWS needed),
then LOGINS (8) hashes start at once on a pool of THREADS (4, a Gunicorn gthread
worker's ``GUNICORN_THREADS``), and the process reports its peak RSS
(``ru_maxrss``) before and after. Cases: Django's default Argon2 parameters
(m=100 MiB, t=2, p=8); Nebula's hasher (m=19 MiB, t=2, p=1) unbounded, and
bounded by ``NEBULA_PASSWORD_HASH_CONCURRENCY`` = 2; each with glibc's default
malloc and with ``MALLOC_MMAP_THRESHOLD_=131072`` (freed hash memory goes back
to the system at once instead of staying in each thread's arena).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, resource, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import django
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, make_password

hashers, bound, n, pool = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings.PASSWORD_HASHERS = [hashers]
settings.NEBULA_PASSWORD_HASH_CONCURRENCY = bound
get_hasher()._load_library()  # argon2-cffi loaded, no hash memory touched yet
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def login(_):
    make_password("correct horse battery staple")

began = time.perf_counter()
with ThreadPoolExecutor(max_workers=pool) as executor:
    list(executor.map(login, range(n)))
elapsed = time.perf_counter() - began
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_mib": before / 1024, "after_mib": after / 1024, "seconds": elapsed}))
"""

CASES = [
    (
        "Django default Argon2 (m=100 MiB, p=8), unbounded",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        1000,
    ),
    (
        "Nebula Argon2 (m=19 MiB, t=2, p=1), unbounded",
        "accounts.hashers.Argon2PasswordHasher",
        1000,
    ),
    ("Nebula Argon2 (m=19 MiB, t=2, p=1), 2 at a time", "accounts.hashers.Argon2PasswordHasher", 2),
]


def measure(hasher: str, bound: int, n: int, pool: int, malloc: dict[str, str]) -> dict:
    """Run one case in a fresh process and return its figures."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nebula.settings.test", **malloc}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, hasher, str(bound), str(n), str(pool)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    pool = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    print(f"{n} logins at once on {pool} threads in one process; peak RSS (ru_maxrss)")
    for malloc in ({}, {"MALLOC_MMAP_THRESHOLD_": "131072"}):
        print(f"  malloc: {' '.join(f'{k}={v}' for k, v in malloc.items()) or 'glibc default'}")
        for label, hasher, bound in CASES:
            r = measure(hasher, bound, n, pool, malloc)
            print(
                f"    {label:52} {r['before_mib']:6.0f} → {r['after_mib']:6.0f} MiB"
                f"  (+{r['after_mib'] - r['before_mib']:.0f} MiB, {r['seconds']:.2f} s)"
            )


if __name__ == "__main__":
    main()
