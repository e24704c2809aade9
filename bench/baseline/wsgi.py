"""WSGI entry point: ``gunicorn -c python:nebula.gunicorn_conf bench.baseline.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline.settings"

application = get_wsgi_application()
