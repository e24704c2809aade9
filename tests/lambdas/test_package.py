"""The deployment package: reproducible, and every handler imports from it alone.

Builds with pip for the python3.13 x86_64 runtime (wheels from the index or pip's
cache), unzips, and imports each handler with ``python3.13 -S`` (no site-packages):
only what the zip holds is importable.
"""

import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambdas.build import BOTOCORE_SERVICES, ROOT, build

pytestmark = [pytest.mark.slow, pytest.mark.no_dynamodb]


def _python_313() -> str | None:
    """Return a working python3.13 (on PATH, or one pyenv installed), or None."""
    candidates = [shutil.which("python3.13")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    for candidate in filter(None, candidates):
        works = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if works.returncode == 0:
            return candidate
    return None


PYTHON_313 = _python_313()

SMOKE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import lambdas.submit, lambdas.worker, lambdas.sweep
import boto3, botocore.exceptions
import PIL.Image  # pictures imports Pillow when it renders; it must come from the package
assert "site" not in sys.modules, "site-packages were on"
for name in ("lambdas.submit", "lambdas.worker", "lambdas.sweep", "botocore", "pynamodb",
             "aws_lambda_powertools", "fastjsonschema", "lambdas.work.avatar", "pictures", "PIL"):
    assert sys.modules[name].__file__.startswith(sys.argv[1]), (name, sys.modules[name].__file__)
# Pillow's compiled decoders and WebP encoder work on this runtime (the wheel pip chose).
import io
from PIL import Image
from pictures.avatar import render_avatar
for fmt in ("PNG", "JPEG", "WEBP"):
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(out, fmt)
    assert sorted(render_avatar(out.getvalue())) == [64, 256], fmt
request = lambdas.submit.parse({
    "headers": {"Idempotency-Key": "key-0001"},
    "body": json.dumps({"job_id": "j1", "kind": "export", "owner_id": "u1"}),
})
# A client loads its service's model and endpoint rules (no call is made).
for service in sys.argv[2].split(","):
    boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
try:
    boto3.client("sqs", region_name="eu-west-1")
except botocore.exceptions.UnknownServiceError:
    pruned = True
else:
    pruned = False
print("OK", sys.version_info[:2], request["job_id"], "pruned" if pruned else "whole botocore")
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("package") / "lambda.zip")


def test_the_package_is_the_same_bytes_when_built_again(package, tmp_path):
    again = build(tmp_path / "again.zip")

    digest = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (package, again)]
    assert digest[0] == digest[1]


def test_the_package_holds_the_code_and_not_the_build_script(package):
    names = set(zipfile.ZipFile(package).namelist())

    assert {"lambdas/submit.py", "lambdas/openapi.json", "datalayer/jobs.py"} <= names
    assert {"lambdas/work/avatar.py", "pictures/check.py", "pictures/avatar.py"} <= names
    # Pillow for the runtime: a manylinux x86_64 build for CPython 3.13.
    assert [n for n in names if n.startswith("PIL/_imaging.cpython-313-x86_64-linux-gnu")]
    assert "lambdas/build.py" not in names
    assert not [name for name in names if name.endswith(".pyc")]
    assert package.stat().st_size < 15_000_000  # the goal (Lambda's direct-upload limit: 50 MB)


def test_botocore_holds_the_models_of_the_services_the_code_calls_only(package):
    names = zipfile.ZipFile(package).namelist()
    models = {name.split("/")[2] for name in names if name.startswith("botocore/data/")}
    # The clients the code creates, by name: each needs its model in the package.
    called = {"dynamodb"}  # PynamoDB and Powertools' idempotency create theirs
    for path in [*(ROOT / "lambdas").rglob("*.py"), *(ROOT / "datalayer").rglob("*.py")]:
        called |= set(
            re.findall(r"""\.(?:client|resource)\(\s*["']([\w-]+)["']""", path.read_text())
        )

    assert called <= set(BOTOCORE_SERVICES), f"add {called - set(BOTOCORE_SERVICES)} in build.py"
    assert {name for name in models if "." not in name} == set(BOTOCORE_SERVICES)


@pytest.mark.skipif(PYTHON_313 is None, reason="python3.13 (the Lambda runtime's) not found")
def test_every_handler_imports_from_the_unzipped_package_alone(package, tmp_path):
    tree = tmp_path / "tree"
    zipfile.ZipFile(package).extractall(tree)

    result = subprocess.run(
        [PYTHON_313, "-S", "-I", "-c", SMOKE, str(tree), ",".join(BOTOCORE_SERVICES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK (3, 13) j1 pruned"
