"""Gunicorn settings for the container and for ``make run``.

Run as ``gunicorn -c python:nebula.gunicorn_conf``. Every value can be
overridden from the environment (docs/configuration.md).
"""

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """Return how many CPUs this process may use: its affinity, capped by a cgroup quota.

    A container sees every CPU of its host in ``os.cpu_count()``; the CPUs it may
    run on are its affinity, and ECS (like ``docker run --cpus``) limits it further
    with a CFS quota, read here from cgroup v2 (``cpu.max``) or v1.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return cpus


def _cgroup_cpu_quota(cgroup_root: Path) -> float | None:
    """Return the cgroup's CPU quota in CPUs, or None when there is none."""
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (cgroup_root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup_root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or int(period) <= 0:
        return None
    return int(quota) / int(period)


def worker_count(environ: Mapping[str, str] = os.environ) -> int:
    """Return WEB_CONCURRENCY if set, else one worker per usable CPU and at least two.

    Two at least, so a worker being replaced never leaves the task without one.
    """
    configured = environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return int(configured)
    return max(2, usable_cpus())


wsgi_app = "nebula.wsgi:application"
bind = f"{os.environ.get('NEBULA_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - the container's port
# Threads let a worker keep serving pages that need no data while another
# request waits (at most ~3 s) on an unavailable DynamoDB.
worker_class = "gthread"
workers = worker_count()
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
# On SIGTERM, workers finish the requests in hand for at most this long, then
# are killed. ECS sends SIGKILL 30 s after SIGTERM (the task's stopTimeout
# default): 20 s leaves the arbiter time to exit cleanly, with status 0.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Django writes the access log (one JSON line on stdout from the logger
# nebula.access, with the request id and the DynamoDB call count); Gunicorn's
# own would say less, twice. It stays off.
accesslog = None
# Workers signal they are alive by touching a file in this directory; on a
# container's disk (overlay) that write can stall a worker, /dev/shm is memory.
# Gunicorn makes its files there with mkstemp, so the shared directory is safe.
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if Path(SHARED_MEMORY).is_dir() and os.access(SHARED_MEMORY, os.W_OK):
    worker_tmp_dir = SHARED_MEMORY

errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No control socket: nothing here uses it, and two servers on one machine would
# fight over its default path.
control_socket_disable = True
reload = os.environ.get("NEBULA_RELOAD", "") == "1"
if reload:
    # Python modules are watched already; templates and static files too.
    reload_extra_files = [
        str(path)
        for folder in ("templates", "static")
        for path in Path(folder).rglob("*")
        if path.is_file()
    ]


def on_starting(server: object) -> None:
    """Refuse to start, in one line, if the settings cannot load."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nebula.settings.local")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        print(f"gunicorn: {exc}", file=sys.stderr)
        sys.exit(1)
