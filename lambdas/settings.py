"""Every environment variable the Lambda code reads, by name, in one place.

Values are read when asked for (the service name once, when the logger is made), so
tests and the local gateway can set the environment first. docs/configuration.md lists them.
"""

import os

TABLE_PREFIX = "NEBULA_TABLE_PREFIX"
REGION = "AWS_REGION"
MEDIA_BUCKET = "NEBULA_MEDIA_BUCKET"
WORKER_FUNCTION = "NEBULA_WORKER_FUNCTION"
IDEMPOTENCY_TABLE = "NEBULA_IDEMPOTENCY_TABLE"
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"

IDEMPOTENCY_BASE_NAME = "idempotency"


def region() -> str:
    """Return the region the functions run in."""
    return os.environ.get(REGION) or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


def idempotency_table() -> str:
    """Return the idempotency table's name: the prefix + ``idempotency`` unless set."""
    explicit = os.environ.get(IDEMPOTENCY_TABLE)
    if explicit:
        return explicit
    return os.environ[TABLE_PREFIX] + IDEMPOTENCY_BASE_NAME


def worker_function() -> str:
    """Return the name or ARN of the worker function that submit invokes."""
    return os.environ.get(WORKER_FUNCTION, "nebula-worker")


def media_bucket() -> str:
    """Return the private bucket that job results are written to."""
    return os.environ[MEDIA_BUCKET]


def service_name() -> str:
    """Return the service name of logs and metrics (one per function in AWS)."""
    return os.environ.get(SERVICE_NAME, "nebula-jobs")
