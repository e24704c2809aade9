"""Cold import time of each Lambda handler module against a bare ``import boto3``, and package size.

Builds the deployment package (``lambdas.build``), unzips it, and times each import in
fresh interpreters (``-S -I``: only the package is importable), interleaved so that
the machine's noise hits every module alike. Goals (issue 8): each handler under 300 ms
and under 1.5 times ``import boto3``; the zip under 15 MB.
"""

import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lambdas.build import build

MODULES = ("boto3", "lambdas.submit", "lambdas.worker", "lambdas.sweep")
_TIMER = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
    "__import__(sys.argv[2]); print(time.perf_counter() - t)"
)


def _python() -> str:
    """Return the runtime's python3.13 if this machine has one, else this interpreter."""
    found = shutil.which("python3.13")
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    for candidate in candidates:
        if (
            subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode
            == 0
        ):
            return candidate
    return sys.executable


def measure(runs: int = 10) -> tuple[str, dict[str, list[float]], int]:
    """Return the interpreter used, import times (ms) per module, and the zip's size."""
    python = _python()
    times: dict[str, list[float]] = {module: [] for module in MODULES}
    with tempfile.TemporaryDirectory(prefix="nebula-lambda-bench-") as work:
        package = build(Path(work) / "lambda.zip")
        tree = Path(work) / "tree"
        zipfile.ZipFile(package).extractall(tree)
        for module in MODULES:  # one warm-up each: writes the .pyc files, as a deploy would not
            subprocess.run(
                [python, "-S", "-I", "-c", _TIMER, str(tree), module],
                check=True,
                capture_output=True,
            )
        for _ in range(runs):
            for module in MODULES:
                out = subprocess.run(
                    [python, "-S", "-I", "-c", _TIMER, str(tree), module],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                times[module].append(float(out.stdout) * 1000)
        return python, times, package.stat().st_size


def summary(runs: int = 10) -> dict:
    """Return the figures: median import ms per module, its ratio to boto3, the zip's size."""
    python, times, size = measure(runs)
    boto3 = statistics.median(times["boto3"])
    return {
        "python": Path(python).name,
        "runs": runs,
        "import_ms_median": {module: statistics.median(values) for module, values in times.items()},
        "ratio_to_boto3": {
            module: statistics.median(values) / boto3 for module, values in times.items()
        },
        "package_mb": size / 1e6,
    }


def report(runs: int = 10) -> dict:
    """Print the figures and the goals; return them."""
    figures = summary(runs)
    print(
        f"\nLambda cold import, ms (median of {runs} fresh {figures['python']} -S;"
        " goals < 300 and < 1.5x boto3)"
    )
    for module, median in figures["import_ms_median"].items():
        ratio = figures["ratio_to_boto3"][module]
        print(f"  {module:16} median {median:7.1f}   x boto3 {ratio:4.2f}")
    print(f"\nLambda package (zip): {figures['package_mb']:.1f} MB   goal < 15")
    return figures
