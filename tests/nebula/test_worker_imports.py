"""A web worker does not import what only rare pages need (docs/performance.md)."""

import secrets
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


_SIGNED_IN_PAGES = """
import sys, secrets
import django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
from accounts import services
services.user_create(email="imports@example.com", password="a long pass phrase 42",
                     display_name="Imports", email_verified=True)
before = {name for name in HEAVY if name in sys.modules}
client = Client(headers={"Host": "nebula.example.com", "X-Forwarded-Proto": "https"},
                secure=True)
answer = client.post("/accounts/login/",
                     {"email": "imports@example.com", "password": "a long pass phrase 42"})
assert answer.status_code == 302, answer.status_code
for path in ("/accounts/profile/", "/accounts/sessions/", "/"):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
profile = client.get("/accounts/profile/").content.decode()
assert 'name="picture"' in profile, "the picture form is not on the page: uploads are off"
print(sorted(name for name in HEAVY if name in sys.modules and name not in before))
"""


def test_signed_in_pages_import_none_of_them_with_uploads_on(moto_endpoint, tmp_path) -> None:
    """Production with its media bucket: the profile page shows the picture form
    without making the S3 storage (which imports boto3 and s3transfer, ~8 MiB)."""
    code = f"HEAVY = {HEAVY!r}\n" + _SIGNED_IN_PAGES
    env = production_env(
        NEBULA_TABLE_PREFIX=f"imports-{secrets.token_hex(4)}-",
        NEBULA_MEDIA_BUCKET="nebula-imports-media",
        AWS_ENDPOINT_URL_S3=moto_endpoint,
        AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint,
        NEBULA_STATIC_ROOT=str(tmp_path / "static"),
    )

    result = run(sys.executable, "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
