"""Production settings refuse to start without their variables and pass --deploy checks."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.support import ROOT, free_port

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "nebula.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "nebula.example.com",
    "NEBULA_TABLE_PREFIX": "nebula-prod-",
    "AWS_REGION": "eu-west-1",
    "EMAIL_HOST": "email-smtp.eu-west-1.amazonaws.com",
    "DEFAULT_FROM_EMAIL": "Nebula <no-reply@nebula.example.com>",
}


def _env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.update(PRODUCTION)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "NEBULA_TABLE_PREFIX",
        "AWS_REGION",
        "EMAIL_HOST",
        "DEFAULT_FROM_EMAIL",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    result = _manage("check", env=_env(**{missing: None, "AWS_DEFAULT_REGION": None}))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_production_names_every_missing_variable_at_once() -> None:
    result = _manage("check", env=_env(DJANGO_SECRET_KEY=None, DJANGO_ALLOWED_HOSTS=None))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_refuses_a_short_secret_key() -> None:
    result = _manage("check", env=_env(DJANGO_SECRET_KEY="too-short"))

    assert result.returncode != 0
    assert "at least 50" in result.stderr


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_gunicorn_refuses_to_start_in_one_line_without_the_secret_key() -> None:
    env = _env(DJANGO_SECRET_KEY=None, PORT=str(free_port()), NEBULA_BIND_HOST="127.0.0.1")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "gunicorn: production settings need these environment variables: DJANGO_SECRET_KEY" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_local_settings_need_no_configuration() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEBULA_"))}
    env["DJANGO_SETTINGS_MODULE"] = "nebula.settings.local"
    result = _manage("check", env=env)

    assert result.returncode == 0, result.stderr
