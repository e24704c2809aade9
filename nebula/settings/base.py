"""Settings shared by every environment.

Nothing here is a secret or an insecure default: ``local`` and ``test`` add the
conveniences, ``production`` adds the hardening and refuses to start without its
required variables. docs/configuration.md lists every variable.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "nebula",
    "accounts",
]

MIDDLEWARE = [
    "nebula.middleware.RequestLogMiddleware",
    "nebula.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nebula.middleware.DynamoDBUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nebula.urls"
WSGI_APPLICATION = "nebula.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
            ],
        },
    },
]

# No SQL database anywhere: all state lives in DynamoDB (docs/architecture.md).
DATABASES: dict = {}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("NEBULA_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed names never change content, so browsers may keep them for a year or more.
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "nebula.views.csrf_failure"

# --- DynamoDB (nebula/dynamo) --------------------------------------------------
# The endpoint is never a setting: botocore reads AWS_ENDPOINT_URL_DYNAMODB itself,
# so the same code talks to AWS, DynamoDB Local or the moto stand-in.
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="eu-west-1"))
NEBULA_TABLE_PREFIX = env.str("NEBULA_TABLE_PREFIX", default="nebula-local-")
# A web request must never wait long on DynamoDB: ~1 s to connect, ~2 s to read,
# two attempts in all, then a 503 page (docs/architecture.md, "Timeouts").
NEBULA_DYNAMODB_CONNECT_TIMEOUT = env.float("NEBULA_DYNAMODB_CONNECT_TIMEOUT", default=1.0)
NEBULA_DYNAMODB_READ_TIMEOUT = env.float("NEBULA_DYNAMODB_READ_TIMEOUT", default=2.0)
NEBULA_DYNAMODB_MAX_ATTEMPTS = env.int("NEBULA_DYNAMODB_MAX_ATTEMPTS", default=2)
CACHES = {
    # Per-process, for what may differ between workers (template fragments...).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # One cache for every process and container: rate-limit counters.
    "shared": {"BACKEND": "nebula.dynamo.cache.DynamoDBCache", "TIMEOUT": 3600},
}
NEBULA_RETRY_AFTER_SECONDS = env.int("NEBULA_RETRY_AFTER_SECONDS", default=5)

# --- Logging -----------------------------------------------------------------------
NEBULA_LOG_FORMAT = env.str("NEBULA_LOG_FORMAT", default="json")
NEBULA_LOG_LEVEL = env.str("NEBULA_LOG_LEVEL", default="INFO")


def logging_config(log_format: str, level: str) -> dict:
    """Return the ``LOGGING`` dict: one line per record on stdout, JSON or text."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "nebula.logging.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "nebula.logging.JSONFormatter"},
            "text": {"()": "nebula.logging.TextFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
                "filters": ["request"],
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # The access log line already records every request; Django's own
            # request logger would repeat 4xx/5xx lines without the request id.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "botocore": {"level": "WARNING"},
            "pynamodb": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(NEBULA_LOG_FORMAT, NEBULA_LOG_LEVEL)
