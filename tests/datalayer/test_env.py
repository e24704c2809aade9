"""Lambda code configures the data layer from its environment, without Django."""

import json
import os
import subprocess
import sys

import pytest

from datalayer import env
from datalayer.env import ConfigurationError, DataLayerSettings, settings_from_environment
from tests.support import ROOT

pytestmark = pytest.mark.no_dynamodb

MINIMAL = {"NEBULA_TABLE_PREFIX": "nebula-prod-", "AWS_REGION": "eu-central-1"}


def test_defaults_are_the_lambda_ones() -> None:
    assert settings_from_environment(MINIMAL) == DataLayerSettings(
        prefix="nebula-prod-",
        region="eu-central-1",
        connect_timeout=env.LAMBDA_CONNECT_TIMEOUT,
        read_timeout=env.LAMBDA_READ_TIMEOUT,
        max_attempts=env.LAMBDA_MAX_ATTEMPTS,
    )
    # Workers may wait longer than a web request (0.5 s / 1.0 s / 2 attempts).
    assert env.LAMBDA_READ_TIMEOUT > 1.0


def test_every_value_can_be_set() -> None:
    settings = settings_from_environment(
        MINIMAL
        | {
            "NEBULA_DYNAMODB_CONNECT_TIMEOUT": "0.25",
            "NEBULA_DYNAMODB_READ_TIMEOUT": "7",
            "NEBULA_DYNAMODB_MAX_ATTEMPTS": "5",
        }
    )

    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts) == (
        0.25,
        7.0,
        5,
    )


def test_the_region_falls_back_to_aws_default_region() -> None:
    settings = settings_from_environment(
        {"NEBULA_TABLE_PREFIX": "p-", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    assert settings.region == "us-east-1"


def test_every_missing_variable_is_named_in_one_error() -> None:
    with pytest.raises(ConfigurationError, match="NEBULA_TABLE_PREFIX, AWS_REGION"):
        settings_from_environment({"NEBULA_TABLE_PREFIX": "  "})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEBULA_DYNAMODB_CONNECT_TIMEOUT", "fast"),
        ("NEBULA_DYNAMODB_READ_TIMEOUT", "0"),
        ("NEBULA_DYNAMODB_MAX_ATTEMPTS", "2.5"),
        ("NEBULA_DYNAMODB_MAX_ATTEMPTS", "-1"),
    ],
)
def test_a_bad_number_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from_environment(MINIMAL | {name: value})


def test_configure_from_environment_configures_every_model_without_importing_django() -> None:
    code = """
import json, sys
import datalayer
from datalayer import calls, errors, jobs, tables
datalayer.configure_from_environment()
meta = jobs.Job.Meta
print(json.dumps({
    "table": meta.table_name,
    "region": meta.region,
    "timeouts": [meta.connect_timeout_seconds, meta.read_timeout_seconds],
    "retries": meta.max_retry_attempts,
    "django": sorted(m for m in sys.modules if m.split(".")[0] in ("django", "environ")),
}))
"""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "NEBULA_", "DJANGO_"))
    }
    environ |= MINIMAL | {"NEBULA_DYNAMODB_READ_TIMEOUT": "4"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert json.loads(result.stdout) == {
        "table": "nebula-prod-jobs",
        "region": "eu-central-1",
        "timeouts": [env.LAMBDA_CONNECT_TIMEOUT, 4.0],
        "retries": env.LAMBDA_MAX_ATTEMPTS - 1,
        "django": [],
    }
