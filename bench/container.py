"""Container figures for ``make bench``: image size and seconds from start to healthy.

Uses the image ``make container-test`` builds (``localhost/nebula:container-test``)
and that script's own start function (production settings, ``/healthz`` polled);
building the image is that target's job, so without podman or without the image
this returns a note saying so instead of figures.
"""

import secrets
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ecs"))

import container_test  # ecs/ is a folder of scripts, not a package


def measure(runs: int = 3) -> dict:
    """Return the image's size (MB) and start-to-healthy seconds, or a note why not."""
    if shutil.which("podman") is None:
        return {"note": "podman is not installed here: no container figures"}
    cache = container_test.CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    podman = container_test.Podman(container_test.podman_env(cache), cache / "bench.log")
    if podman("image", "exists", container_test.IMAGE, check=False).returncode != 0:
        return {"note": f"no image {container_test.IMAGE}: run `make container-test` first"}
    size = int(podman("image", "inspect", "--format", "{{.Size}}", container_test.IMAGE).stdout)
    created = podman("image", "inspect", "--format", "{{.Created}}", container_test.IMAGE).stdout
    starts = []
    for _ in range(runs):
        name = f"nebula-bench-{secrets.token_hex(4)}"
        try:
            _, seconds = container_test.start_container(podman, name, container_test.free_port())
            starts.append(seconds)
        finally:
            podman("rm", "-f", "-t", "5", name, check=False, timeout=60)
    return {
        "image": container_test.IMAGE,
        "image_created": created.strip(),
        "image_size_mb": size / 1e6,
        "start_to_healthy_s": starts,
        "start_to_healthy_median_s": statistics.median(starts),
    }
