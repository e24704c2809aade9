"""Build the Lambda deployment package: ``python -m lambdas.build [--output build/lambda.zip]``.

The pinned ``lambdas/requirements.txt`` is installed for the python3.13 x86_64 runtime
(Amazon Linux 2023, glibc 2.34) whatever this machine runs: binary wheels only, for
**both** ``manylinux_2_28_x86_64`` and ``manylinux2014_x86_64`` (with the latter alone pip
silently picks older releases of packages whose new wheels are 2_28-only). Then the
``lambdas``, ``datalayer`` and ``pictures`` packages are added (not this script), and
everything is zipped reproducibly: sorted entries, fixed timestamps and modes, no ``.pyc``. The same
sources and requirements give the same bytes.

botocore stays in the package, pinned (the version the tests ran with, not whatever the
runtime ships that month), but only with the API models of the services the functions
call (:data:`BOTOCORE_SERVICES`): the models of its 400-odd others are 80 % of the zip.
Its shared data (endpoints, partitions, retry and default configuration) stays. A client
for any other service fails with ``UnknownServiceError``; ``tests/lambdas/test_package.py``
fails first if the code names one (docs/jobs.md, "The deployment package").
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "lambdas" / "requirements.txt"
PACKAGES = ("lambdas", "datalayer", "pictures")
EXCLUDED = {"lambdas/build.py", "lambdas/requirements.txt"}
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
# The AWS services the functions call: DynamoDB (PynamoDB, Powertools idempotency), S3
# (results, avatars), Lambda (submit invokes the worker). Add one here to call it.
BOTOCORE_SERVICES = ("dynamodb", "lambda", "s3")
PYTHON_VERSION = "3.13"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def install_requirements(target: Path) -> None:
    """pip-install the pinned requirements into ``target`` for the Lambda runtime."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--abi",
        "cp" + PYTHON_VERSION.replace(".", ""),
        *platforms,
        "--target",
        str(target),
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own fixed pip command


def prune_botocore(tree: Path) -> None:
    """Remove the API models of every service but :data:`BOTOCORE_SERVICES` from ``tree``."""
    data = tree / "botocore" / "data"
    for service in data.iterdir():
        if service.is_dir() and service.name not in BOTOCORE_SERVICES:
            shutil.rmtree(service)
    missing = [name for name in BOTOCORE_SERVICES if not (data / name).is_dir()]
    if missing:
        raise RuntimeError(f"botocore has no model for {', '.join(missing)}")


def _files(tree: Path) -> list[tuple[str, Path]]:
    found = []
    for path in tree.rglob("*"):
        name = path.relative_to(tree).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and not name.endswith(".pyc"):
            found.append((name, path))
    return found


def write_zip(tree: Path, output: Path) -> None:
    """Zip ``tree`` with sorted names, fixed times and modes (the same input, the same bytes)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(_files(tree)):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)


def build(output: Path) -> Path:
    """Build the package at ``output``; return it."""
    with tempfile.TemporaryDirectory(prefix="lambda-build-") as work:
        tree = Path(work)
        install_requirements(tree)
        prune_botocore(tree)
        for package in PACKAGES:
            for name, path in _files(ROOT / package):
                relative = f"{package}/{name}"
                if relative in EXCLUDED:
                    continue
                destination = tree / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
        write_zip(tree, output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "lambda.zip")
    args = parser.parse_args(argv)
    path = build(args.output)
    print(f"{path} {path.stat().st_size / 1e6:.1f} MB")  # noqa: T201 - the command's answer
    return 0


if __name__ == "__main__":
    sys.exit(main())
