"""Build the Dockerfile with podman and check the running container (``make container-test``).

Nothing here needs a registry (docs/deploy.md, "Container image"):

1. a Debian trixie base (Python 3.13) made with debootstrap and imported as
   ``localhost/debian-python:trixie``, made only when podman does not have it yet;
2. a tiny stand-in on that base tagged ``docker.io/library/python:3.13-slim``, the
   Dockerfile's ``FROM`` image: ``python`` and ``pip`` on PATH, the host's extra CA
   certificates trusted (pip reaches the package registry through a proxy that
   presents them). A real ``python:3.13-slim`` already in podman is used instead;
3. the Dockerfile built unchanged, with the host's pip configuration mounted for
   the install only (never stored in the image);
4. the image and the running container checked under production settings:
   ``/healthz``, the image's HEALTHCHECK, a page, a static file and its cache
   headers, the access log, the user, and a clean stop on SIGTERM.

Every check prints one line; the exit status is non-zero if any failed. Figures
(build times, image size, start-to-healthy, stop time) are printed at the end.
Needs root and podman, buildah, debootstrap and runc
(``ecs/install-container-tools.sh``); uses only the standard library, so it runs
without the project's virtualenv.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/debian-python:trixie"
FROM_IMAGE = "docker.io/library/python:3.13-slim"
IMAGE = "localhost/nebula:container-test"
STANDIN_LABEL = "org.nebula.python-standin"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nebula-container-test"
DEBIAN_MIRROR = os.environ.get("NEBULA_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
# Inside the image: the system bundle, which holds the host's extra certificates too.
CONTAINER_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
STOP_TIMEOUT = 30  # seconds: ECS's default stopTimeout
ONE_YEAR = 365 * 24 * 3600
SITE_HOST = "nebula.test"
TOOLS = ("podman", "buildah", "debootstrap", "runc")
DEV_PACKAGES = ("pytest", "moto", "ruff", "playwright", "pip")

STANDIN_CONTAINERFILE = """\
FROM {base}
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates --fresh >/dev/null \\
    && ln -sf /usr/bin/python3 /usr/local/bin/python \\
    && ln -sf /usr/bin/pip3 /usr/local/bin/pip \\
    && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
LABEL {label}={digest}
CMD ["python3"]
"""

# Run inside the container: what the image holds, as JSON.
INSPECT_CONTENTS = """\
import importlib.util, json, os, shutil, sys
paths = json.loads(sys.argv[1])
uids = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    if pid == str(os.getpid()):
        continue
    try:
        status = open(f"/proc/{pid}/status").read()
        cmdline = open(f"/proc/{pid}/cmdline").read().replace("\\0", " ").strip()
    except OSError:
        continue
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    uids[pid] = {"uids": [int(u) for u in uid_line.split()[1:]], "cmd": cmdline}
print(json.dumps({
    "uid": os.getuid(),
    "processes": uids,
    "pid1": uids.get("1", {}).get("cmd", ""),
    "app_writable": [p for p in ("/app", "/app/nebula", "/app/nebula/settings/production.py",
                                 "/app/staticfiles") if os.access(p, os.W_OK)],
    "present": [p for p in paths if os.path.lexists(p)],
    "packages": [n for n in sys.argv[2].split(",") if importlib.util.find_spec(n)],
    "compilers": [c for c in ("gcc", "cc", "make") if shutil.which(c)],
}))
"""


class Checks:
    """Collect named pass/fail results and print each as it comes."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record one result; print it with its detail."""
        print(f"  {'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""))
        if not ok:
            self.failed.append(name)
        return ok


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let a redirect reach the caller as a response."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


HTTP = urllib.request.build_opener(NoRedirect)


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """GET ``url`` without following redirects; return status, headers and body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with HTTP.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def podman_env(cache: Path) -> dict[str, str]:
    """Write the containers.conf podman and buildah need here; return the environment naming it.

    runc, not crun: crun refuses a host with mixed cgroup v1/v2. Container ulimits
    must not exceed the host's hard limits.
    """
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else nofile
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc = 4096 if nproc == resource.RLIM_INFINITY else min(4096, nproc)
    conf = cache / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'events_logger = "file"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


class Podman:
    """Run podman with this test's configuration."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 120, **kwargs: object
    ) -> subprocess.CompletedProcess:
        """Run ``podman ARGS``; capture its output as text."""
        result = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"podman {' '.join(args[:3])} failed ({result.returncode}):\n"
                f"{result.stderr[-3000:]}{result.stdout[-3000:]}"
            )
        return result

    def logged(self, *args: str, timeout: float) -> None:
        """Run ``podman ARGS`` with its output in the log file; show its end if it fails."""
        with self.log.open("a") as log:
            log.write(f"\n$ podman {' '.join(args)}\n")
            log.flush()
            result = subprocess.run(
                ["podman", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            tail = "".join(self.log.read_text().splitlines(keepends=True)[-40:])
            raise RuntimeError(f"podman {args[0]} failed ({result.returncode}):\n{tail}")

    def exists(self, image: str) -> bool:
        """Say whether podman has ``image``."""
        return self("image", "exists", image, check=False).returncode == 0

    def inspect(self, image: str) -> dict:
        """Return ``podman image inspect`` for one image."""
        return json.loads(self("image", "inspect", image).stdout)[0]


def require_tools() -> None:
    """Stop with a clear message if this machine cannot run the test."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        names = ", ".join(missing)
        sys.exit(f"container-test: missing {names}: run ecs/install-container-tools.sh")
    if os.geteuid() != 0:
        sys.exit("container-test: needs root (debootstrap, rootful podman)")


def build_base(podman: Podman, cache: Path) -> float | None:
    """Make the Debian trixie base with debootstrap unless podman has it; return seconds taken."""
    if podman.exists(BASE_IMAGE):
        print(f"base image: {BASE_IMAGE} (cached)")
        return None
    print(f"base image: debootstrap trixie from {DEBIAN_MIRROR} ...")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        rootfs = Path(tmp) / "rootfs"
        with podman.log.open("a") as log:
            subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    "--include=python3,python3-venv,python3-pip,ca-certificates",
                    "trixie",
                    str(rootfs),
                    DEBIAN_MIRROR,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=1800,
            )
        for leftovers in (rootfs / "var/cache/apt/archives", rootfs / "var/lib/apt/lists"):
            for path in leftovers.glob("*"):
                if path.is_file():
                    path.unlink()
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            podman("import", "-", BASE_IMAGE, stdin=tar.stdout, timeout=600)
        if tar.returncode != 0:
            raise RuntimeError(f"tar of the base image's rootfs failed ({tar.returncode})")
    return time.monotonic() - started


def build_from_image(podman: Podman, cache: Path) -> None:
    """Tag a stand-in for the Dockerfile's FROM image, unless the real one (or ours) is there."""
    certs = sorted(HOST_CA_DIR.glob("*.crt")) if HOST_CA_DIR.is_dir() else []
    digest = hashlib.sha256(STANDIN_CONTAINERFILE.encode())
    for cert in certs:
        digest.update(cert.name.encode() + cert.read_bytes())
    digest = digest.hexdigest()[:16]
    if podman.exists(FROM_IMAGE):
        labels = podman.inspect(FROM_IMAGE).get("Labels") or {}
        if STANDIN_LABEL not in labels:
            print(f"FROM image: {FROM_IMAGE} (a real one, used as is)")
            return
        if labels[STANDIN_LABEL] == digest:
            print(f"FROM image: {FROM_IMAGE} (stand-in, cached)")
            return
    print(f"FROM image: building the stand-in {FROM_IMAGE} on {BASE_IMAGE}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        context = Path(tmp)
        (context / "certs").mkdir()
        for cert in certs:
            shutil.copy(cert, context / "certs" / cert.name)
        (context / "Containerfile").write_text(
            STANDIN_CONTAINERFILE.format(base=BASE_IMAGE, label=STANDIN_LABEL, digest=digest)
        )
        podman.logged(
            "build", "--pull=never", "--format", "docker", "-t", FROM_IMAGE, str(context),
            timeout=600,
        )  # fmt: skip


def host_pip_config() -> tuple[str, list[str]]:
    """Return the host's pip configuration as one pip.conf, and the host paths it names.

    Environment variables (``PIP_*``) win over files, as in pip. The CA bundle is
    the image's own (it trusts the host's extra certificates); every other local
    path (``file://`` indexes with the files their pages link to, find-links,
    constraints) is mounted read-only at the same place.
    """
    # Any pip reads the same files and variables; Debian's python3 may have none.
    for python in (sys.executable, str(ROOT / ".venv" / "bin" / "python")):
        try:
            result = subprocess.run(
                [python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
            )
        except OSError:
            continue
        if result.returncode == 0:
            break
    else:
        print("  no pip on this machine to read its configuration: the build uses pip's defaults")
        return "", []
    from_files: dict[str, dict[str, str]] = {}
    from_env: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(?P<scope>[^.]+)\.(?P<key>[^=]+)=(?P<value>.*)$", line)
        if not match:
            continue
        value = ast.literal_eval(match["value"])
        if match["scope"] == ":env:":
            from_env[match["key"]] = value
        else:
            from_files.setdefault(match["scope"], {})[match["key"]] = value
    from_files.setdefault("global", {}).update(from_env)
    paths: list[str] = []
    lines: list[str] = []
    for section, items in from_files.items():
        lines.append(f"[{section}]")
        for key, value in items.items():
            if key == "cert":
                value = CONTAINER_CA_BUNDLE  # noqa: PLW2901 - the image's own bundle
            else:
                paths.extend(path for path in local_paths(value) if path not in paths)
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n", paths


def local_paths(value: str) -> list[str]:
    """Return the existing local paths a pip setting names (``file://`` URLs or absolute paths)."""
    paths = []
    for token in value.split():
        path = urllib.parse.urlparse(token).path if "://" in token else token
        if not token.startswith(("file://", "/")) or not Path(path).exists():
            continue
        # A local PEP 503 index (.../simple) links to files beside it.
        path = path.rstrip("/")
        paths.append(path.removesuffix("/simple") if path.endswith("/simple") else path)
    return paths


def build_image(podman: Podman, cache: Path, *, no_cache: bool) -> tuple[float, list[str]]:
    """Build the project's Dockerfile unchanged; return seconds taken and the mounted paths."""
    pip_conf, paths = host_pip_config()
    pip_conf_file = cache / "pip.conf"
    pip_conf_file.write_text(pip_conf)
    mounts = [arg for path in paths for arg in ("-v", f"{path}:{path}:ro")]
    previous = podman.inspect(IMAGE)["Id"] if podman.exists(IMAGE) else None
    print(f"image: building {IMAGE} from {ROOT / 'Dockerfile'}")
    if paths:
        print(f"  the host's pip configuration, mounted for the build only: {', '.join(paths)}")
    started = time.monotonic()
    # podman's volumes reach every RUN step and leave their mount points behind;
    # the Dockerfile's final stage has no RUN step, and a check below proves it.
    podman.logged(
        "build", "--pull=never", "--format", "docker",  # docker format keeps HEALTHCHECK
        *(["--no-cache"] if no_cache else []),
        "--secret", f"id=pipconf,src={pip_conf_file}", *mounts,
        "-t", IMAGE, "-f", str(ROOT / "Dockerfile"), str(ROOT),
        timeout=1800,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if previous and previous != podman.inspect(IMAGE)["Id"]:
        podman("rmi", previous, check=False)
    return seconds, paths


def check_image(podman: Podman, checks: Checks) -> int:
    """Check the image's configuration; return its size in bytes."""
    info = podman.inspect(IMAGE)
    config = info.get("Config") or {}
    user = config.get("User", "")
    checks.check(
        "the image runs as a non-root user",
        user.split(":")[0] not in ("", "0", "root"),
        f"USER {user or '(unset: root)'}",
    )
    healthcheck = (info.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
    checks.check(
        "the image has a HEALTHCHECK on /healthz",
        any("/healthz" in part for part in healthcheck),
        " ".join(healthcheck)[:100] or "none",
    )
    env_names = [item.split("=", 1)[0] for item in config.get("Env") or []]
    leaked = [name for name in env_names if "SECRET" in name or name.startswith("PIP_")]
    checks.check("no secret or pip setting in the image's environment", not leaked, str(leaked))
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE).stdout
    checks.check(
        "no build-time placeholder in the image's history",
        "DJANGO_SECRET_KEY" not in history and "pipconf" not in history,
    )
    return int(info["Size"])


def start_container(podman: Podman, name: str, port: int) -> tuple[str, float]:
    """Run the image with production settings; return its id and seconds until /healthz answers."""
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "NEBULA_OTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": SITE_HOST,
        "NEBULA_TABLE_PREFIX": "nebula-container-test-",
        "AWS_REGION": "eu-west-1",
        "EMAIL_HOST": "smtp.invalid",
        "DEFAULT_FROM_EMAIL": f"no-reply@{SITE_HOST}",
        # Nothing checked here may touch DynamoDB: a refused port makes any call
        # show (dynamodb_calls > 0, a 503) instead of reaching AWS.
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "container-test",
        "AWS_SECRET_ACCESS_KEY": "container-test",
    }
    started = time.monotonic()
    container = podman(
        "run", "-d", "--name", name,
        "-p", f"127.0.0.1:{port}:8000",
        *[arg for key, value in env.items() for arg in ("-e", f"{key}={value}")],
        IMAGE,
    ).stdout.strip()  # fmt: skip
    deadline = started + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = http_get(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            status = 0
        if status == 200:
            return container, time.monotonic() - started
        state = podman("inspect", "--format", "{{.State.Status}}", container, check=False)
        if state.stdout.strip() not in ("running", "created", ""):
            break
        time.sleep(0.05)
    logs = podman("logs", container, check=False)
    raise RuntimeError(f"the container never answered /healthz:\n{logs.stdout}{logs.stderr}")


def check_running(
    podman: Podman, checks: Checks, container: str, port: int, build_paths: list[str]
) -> None:
    """Check what the running container serves, logs and holds."""
    base = f"http://127.0.0.1:{port}"
    status, headers, body = http_get(f"{base}/healthz")
    checks.check("/healthz answers 200", status == 200, body.decode()[:60])

    health = podman("healthcheck", "run", container, check=False)
    checks.check(
        "the image's HEALTHCHECK passes",
        health.returncode == 0,
        (health.stdout + health.stderr).strip()[:120] or "healthy",
    )

    https = {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    status, headers, _ = http_get(f"{base}/", {"Host": SITE_HOST})
    checks.check(
        "plain HTTP is redirected to HTTPS (production settings)",
        status == 301 and headers.get("Location", "").startswith("https://"),
        f"{status} {headers.get('Location', '')}",
    )
    status, headers, body = http_get(f"{base}/", {**https, "X-Request-ID": "container-test-home"})
    page = body.decode(errors="replace")
    checks.check(
        "the home page answers 200",
        status == 200 and "Nebula" in page and "text/html" in headers.get("Content-Type", ""),
        f"{status}, {len(body)} bytes",
    )

    match = re.search(r"/static/[\w/.-]+\.[0-9a-f]{12}\.css", page)
    checks.check("the page links a hashed stylesheet", bool(match), match[0] if match else "")
    if match:
        status, headers, body = http_get(f"{base}{match[0]}", {**https, "Accept-Encoding": "gzip"})
        cache_control = headers.get("Cache-Control", "")
        max_age = re.search(r"max-age=(\d+)", cache_control)
        checks.check(
            "the static file is served for a year or more, immutable, compressed",
            status == 200
            and max_age is not None
            and int(max_age[1]) >= ONE_YEAR
            and "immutable" in cache_control
            and headers.get("Content-Encoding") == "gzip",
            f"{status}, Cache-Control: {cache_control}, "
            f"Content-Encoding: {headers.get('Content-Encoding')}",
        )

    logged = podman("logs", container)
    logs = logged.stdout  # the access log goes to stdout, Gunicorn's own to stderr
    access = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    home = [
        entry
        for entry in access
        if entry.get("logger") == "nebula.access"
        and entry.get("request_id") == "container-test-home"
    ]
    checks.check(
        "the home page is one JSON access line on stdout, with 0 DynamoDB calls",
        len(home) == 1 and home[0].get("dynamodb_calls") == 0 and home[0].get("status") == 200,
        json.dumps(home[0]) if home else "no line",
    )
    gunicorn_access = [
        line
        for line in (logged.stdout + logged.stderr).splitlines()
        if re.search(r'"GET /\S* HTTP/1', line)
    ]
    checks.check("Gunicorn's own access log is off", not gunicorn_access, str(gunicorn_access[:1]))

    inside = json.loads(
        podman(
            "exec", container, "python", "-c", INSPECT_CONTENTS,
            json.dumps(["/etc/pip.conf", *build_paths, "/app/tests", "/app/.git", "/app/.venv",
                        "/app/.local", "/app/docs", "/app/local", "/app/Dockerfile"]),
            ",".join(DEV_PACKAGES),
        ).stdout
    )  # fmt: skip
    root_processes = sorted({p["cmd"][:60] for p in inside["processes"].values() if 0 in p["uids"]})
    checks.check(
        "no process in the container runs as root",
        inside["uid"] != 0 and not root_processes and "gunicorn" in inside["pid1"],
        f"uid {inside['uid']}, PID 1: {inside['pid1'][:60]}, as root: {root_processes}",
    )
    checks.check(
        "the server cannot write its code or static files",
        not inside["app_writable"],
        str(inside["app_writable"]),
    )
    checks.check(
        "no pip configuration, test, local state or VCS data in the image",
        not inside["present"],
        str(inside["present"]),
    )
    checks.check(
        "no dev tool or installer in the virtualenv, no compiler on PATH",
        not inside["packages"] and not inside["compilers"],
        str(inside["packages"] + inside["compilers"]),
    )
    workers = logged.stderr.count("Booting worker")
    checks.check("Gunicorn booted its workers", workers >= 2, f"{workers} workers")


def stop_container(podman: Podman, checks: Checks, container: str) -> float:
    """Stop the container as ECS does (SIGTERM, then SIGKILL after the timeout); check it."""
    started = time.monotonic()
    podman("stop", "-t", str(STOP_TIMEOUT), container, timeout=STOP_TIMEOUT + 30)
    seconds = time.monotonic() - started
    code = podman("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
    logs = podman("logs", container).stderr + podman("logs", container).stdout
    # Gunicorn handles SIGTERM: workers finish their requests, the arbiter exits 0.
    # 143 would mean SIGTERM killed PID 1 unhandled; 137 that SIGKILL was needed.
    checks.check(
        f"SIGTERM stops it cleanly within {STOP_TIMEOUT} s",
        code == "0" and seconds < STOP_TIMEOUT and "Shutting down: Master" in logs,
        f"exit code {code} after {seconds:.1f} s",
    )
    return seconds


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(label: str, figures: dict[str, str], action: Callable[[], float | None]) -> None:
    """Run ``action`` and record the seconds it reports under ``label``."""
    seconds = action()
    figures[label] = "cached" if seconds is None else f"{seconds:.1f} s"


def main() -> int:
    """Build, run, check; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cache", action="store_true", help="build the image from scratch")
    args = parser.parse_args()
    require_tools()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    podman = Podman(podman_env(CACHE_DIR), CACHE_DIR / "build.log")
    podman.log.write_text("")
    checks = Checks()
    figures: dict[str, str] = {}

    timed("base image build", figures, lambda: build_base(podman, CACHE_DIR))
    build_from_image(podman, CACHE_DIR)
    seconds, build_paths = build_image(podman, CACHE_DIR, no_cache=args.no_cache)
    figures["image build"] = f"{seconds:.1f} s" + (" (no cache)" if args.no_cache else "")
    print(f"checks (build log: {podman.log}):")
    size = check_image(podman, checks)
    base_size = int(podman.inspect(FROM_IMAGE)["Size"])
    figures["image size"] = f"{size / 1e6:.0f} MB"
    figures["added to FROM"] = (
        f"{(size - base_size) / 1e6:.0f} MB (FROM image: {base_size / 1e6:.0f} MB)"
    )

    port = free_port()
    name = f"nebula-container-test-{os.getpid()}"
    try:
        container, seconds = start_container(podman, name, port)
        figures["start to healthy"] = f"{seconds:.2f} s"
        check_running(podman, checks, container, port, build_paths)
        figures["stop on SIGTERM"] = f"{stop_container(podman, checks, container):.1f} s"
    finally:
        if podman("container", "exists", name, check=False).returncode == 0:
            podman("rm", "--force", name)
    print("figures:")
    for label, value in figures.items():
        print(f"  {label:18} {value}")
    if checks.failed:
        print(f"container-test: {len(checks.failed)} check(s) failed", file=sys.stderr)
        return 1
    print("container-test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
