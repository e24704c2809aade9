"""Configure the data layer from environment variables (Lambda code; no Django settings).

Every variable the data layer reads is named here and nowhere else. The site does
not use this module: its settings read the same names with the web's defaults
(docs/configuration.md) and ``nebula.apps`` passes them to :func:`datalayer.models.configure`.

The defaults suit Lambda functions, which wait on DynamoDB with no person behind a
Gunicorn thread: a slower first answer is better than a failed job. With them a hung
DynamoDB costs one call at most 3 attempts of 3 s each (+ botocore's short back-off),
well inside API Gateway's 29 s integration timeout and any worker's Lambda timeout.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import models

TABLE_PREFIX = "NEBULA_TABLE_PREFIX"
REGION = "AWS_REGION"
# Set by the Lambda runtime too; read when AWS_REGION is missing (as botocore does).
DEFAULT_REGION = "AWS_DEFAULT_REGION"
CONNECT_TIMEOUT = "NEBULA_DYNAMODB_CONNECT_TIMEOUT"
READ_TIMEOUT = "NEBULA_DYNAMODB_READ_TIMEOUT"
MAX_ATTEMPTS = "NEBULA_DYNAMODB_MAX_ATTEMPTS"

LAMBDA_CONNECT_TIMEOUT = 1.0
LAMBDA_READ_TIMEOUT = 3.0
LAMBDA_MAX_ATTEMPTS = 3


class ConfigurationError(RuntimeError):
    """The environment lacks a variable the data layer needs, or holds a bad value."""


@dataclass(frozen=True)
class DataLayerSettings:
    """What :func:`datalayer.models.configure` needs, as read from the environment."""

    prefix: str
    region: str
    connect_timeout: float
    read_timeout: float
    max_attempts: int


def _positive(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value <= 0:
        raise ConfigurationError(f"{name}={raw!r} must be greater than 0")
    return value


def settings_from_environment(environ: Mapping[str, str] | None = None) -> DataLayerSettings:
    """Read the data layer's settings; name every missing or bad variable in one error."""
    environ = os.environ if environ is None else environ
    prefix = environ.get(TABLE_PREFIX, "").strip()
    region = environ.get(REGION, "").strip() or environ.get(DEFAULT_REGION, "").strip()
    missing = [name for name, value in ((TABLE_PREFIX, prefix), (REGION, region)) if not value]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
    return DataLayerSettings(
        prefix=prefix,
        region=region,
        connect_timeout=float(_positive(environ, CONNECT_TIMEOUT, LAMBDA_CONNECT_TIMEOUT, float)),
        read_timeout=float(_positive(environ, READ_TIMEOUT, LAMBDA_READ_TIMEOUT, float)),
        max_attempts=int(_positive(environ, MAX_ATTEMPTS, LAMBDA_MAX_ATTEMPTS, int)),
    )


def configure_from_environment(environ: Mapping[str, str] | None = None) -> DataLayerSettings:
    """Configure every model from the environment (once per cold start); return the settings."""
    settings = settings_from_environment(environ)
    models.configure(
        prefix=settings.prefix,
        region=settings.region,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_attempts=settings.max_attempts,
    )
    return settings
