"""Production settings refuse to start without their variables and pass --deploy checks."""

import os
import sys

import pytest

from tests.support import PRODUCTION, free_port, manage, production_env, run

REQUIRED = [name for name in PRODUCTION if name != "DJANGO_SETTINGS_MODULE"]


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    result = manage("check", env=production_env(**{missing: None, "AWS_DEFAULT_REGION": None}))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_production_names_every_missing_variable_at_once() -> None:
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=None, DJANGO_ALLOWED_HOSTS=None))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_refuses_a_short_secret_key() -> None:
    result = manage("check", env=production_env(DJANGO_SECRET_KEY="too-short"))

    assert result.returncode != 0
    assert "at least 50" in result.stderr


def test_production_refuses_a_short_second_factor_encryption_key() -> None:
    result = manage("check", env=production_env(NEBULA_OTP_ENCRYPTION_KEY="too-short"))

    assert result.returncode != 0
    assert "NEBULA_OTP_ENCRYPTION_KEY must be at least 32" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_keeps_rotated_secret_keys_as_fallbacks() -> None:
    old = ["an-old-secret-key-" + "0123456789abcdef" * 4, "an-older-one-" + "fedcba9876543210" * 4]
    env = production_env(DJANGO_SECRET_KEY_FALLBACKS=",".join(old))

    result = manage("diffsettings", env=env)

    assert result.returncode == 0, result.stderr
    assert f"SECRET_KEY_FALLBACKS = {old!r}" in result.stdout


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_gunicorn_refuses_to_start_in_one_line_without_the_secret_key() -> None:
    env = production_env(
        DJANGO_SECRET_KEY=None, PORT=str(free_port()), NEBULA_BIND_HOST="127.0.0.1"
    )
    result = run(sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf", env=env)

    assert result.returncode != 0
    assert "gunicorn: production settings need these environment variables: DJANGO_SECRET_KEY" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_local_settings_need_no_configuration() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEBULA_"))}
    env["DJANGO_SETTINGS_MODULE"] = "nebula.settings.local"
    result = manage("check", env=env)

    assert result.returncode == 0, result.stderr


def test_the_local_admin_command_refuses_production_settings() -> None:
    result = manage("ensure_local_admin", env=production_env())

    assert result.returncode == 1
    assert "only runs with local settings" in result.stderr
