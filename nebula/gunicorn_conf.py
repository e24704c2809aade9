"""Gunicorn settings for the container and for ``make run``.

Run as ``gunicorn -c python:nebula.gunicorn_conf``. Every value can be
overridden from the environment (docs/configuration.md).
"""

import os
import sys
from pathlib import Path

wsgi_app = "nebula.wsgi:application"
bind = f"{os.environ.get('NEBULA_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - the container's port
# Threads let a worker keep serving pages that need no data while another
# request waits (at most ~3 s) on an unavailable DynamoDB.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Django writes the access log (one JSON line with the request id and the
# DynamoDB call count); Gunicorn's own would say less, twice.
accesslog = None
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
