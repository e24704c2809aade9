"""A web worker does not import what only rare pages need (docs/performance.md)."""

import sys

import pytest

from tests.support import production_env, run

pytestmark = pytest.mark.no_dynamodb

# Resident memory each costs a worker: cryptography ~7 MiB, boto3 ~2 MiB, PIL ~2 MiB,
# segno ~1 MiB.
HEAVY = ("cryptography", "boto3", "PIL", "segno")


def test_loading_the_site_imports_none_of_the_heavy_rare_dependencies() -> None:
    code = (
        "import sys, nebula.wsgi\n"
        "from django.urls import resolve\n"
        "resolve('/accounts/profile/')\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )

    result = run(sys.executable, "-c", code, env=production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
