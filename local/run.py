"""``make run``: the stand-in, the tables and Gunicorn, stopped together.

1. start the moto stand-in (``local.standin``) on loopback, restoring the last snapshot;
2. serve the site with Gunicorn, reloading on code changes (it boots meanwhile);
3. start the local jobs gateway (``local.gateway``: the API and the Lambda handlers);
4. create or update the tables and the local admin (``manage.py prepare_local``);
5. on Ctrl-C or SIGTERM stop Gunicorn and the gateway, then the stand-in (which
   saves its state), and leave no process behind.

Ports and folders come from the environment: ``PORT`` (8000),
``NEBULA_STANDIN_PORT`` (8001), ``NEBULA_GATEWAY_PORT`` (8002),
``NEBULA_LOCAL_STATE_DIR`` (``.local``).
"""

import contextlib
import ctypes
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


class RunError(Exception):
    """Something that stops ``make run`` from starting; its message is one line."""


def _die_with_parent() -> None:
    # If this runner is killed outright, the kernel stops its children too.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(args: list[str], env: dict[str, str], *, stdout: int | None = None) -> subprocess.Popen:
    # A session of its own: Ctrl-C reaches only this runner, which then stops
    # the children in order (the stand-in must outlive Gunicorn to save state).
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=stdout,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - the runner starts no threads
    )


def _stop(process: subprocess.Popen, name: str, timeout: float) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"run: {name} did not stop in {timeout:.0f} s; killing it", file=sys.stderr)
    # Whatever is left in its process group (Gunicorn workers...) goes too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_line(process: subprocess.Popen, wanted: bytes, name: str, timeout: float) -> None:
    """Read the process's (binary) stdout until the line ``wanted`` arrives."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.5):
                continue
            line = process.stdout.readline()
            if not line:
                raise RunError(f"{name} exited with status {process.wait()} while starting")
            if line.strip() == wanted:
                return
    raise RunError(f"{name} was not ready within {timeout:.0f} s")


def _wait_http(url: str, process: subprocess.Popen, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RunError(f"{name} exited with status {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # It answers; that is all we wait for.
        except OSError:
            time.sleep(0.1)
    raise RunError(f"{name} did not answer {url} within {timeout:.0f} s")


class _StopRequestedError(Exception):
    pass


def _on_signal(signum: int, _frame: object) -> None:
    raise _StopRequestedError(signum)


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    standin_port = int(os.environ.get("NEBULA_STANDIN_PORT", "8001"))
    gateway_port = int(os.environ.get("NEBULA_GATEWAY_PORT", "8002"))
    state_dir = Path(os.environ.get("NEBULA_LOCAL_STATE_DIR", ROOT / ".local"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "nebula.settings.local"),
        "NEBULA_STANDIN_PORT": str(standin_port),
        "NEBULA_LOCAL_STATE_DIR": str(state_dir),
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{standin_port}",
        # Media (job results) on the same stand-in; the site calls the jobs API here.
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{standin_port}",
        "NEBULA_MEDIA_BUCKET": os.environ.get("NEBULA_MEDIA_BUCKET", "nebula-local-media"),
        "NEBULA_TABLE_PREFIX": os.environ.get("NEBULA_TABLE_PREFIX", "nebula-local-"),
        "NEBULA_GATEWAY_PORT": str(gateway_port),
        "NEBULA_JOBS_API_URL": f"http://127.0.0.1:{gateway_port}/v1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": os.environ.get("AWS_REGION", "eu-west-1"),
        "PORT": str(port),
        "NEBULA_BIND_HOST": "127.0.0.1",
        "NEBULA_RELOAD": os.environ.get("NEBULA_RELOAD", "1"),
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
        "PYTHONUNBUFFERED": "1",
    }
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    standin = web = gateway = None
    try:
        for wanted, name in (
            (port, "PORT"),
            (standin_port, "NEBULA_STANDIN_PORT"),
            (gateway_port, "NEBULA_GATEWAY_PORT"),
        ):
            if not _port_free(wanted):
                raise RunError(f"port {wanted} is in use; set {name} to another port")
        standin = _start(
            [
                sys.executable,
                "-m",
                "local.standin",
                "--port",
                str(standin_port),
                "--snapshot",
                str(state_dir / "dynamodb.json"),
            ],
            env,
            stdout=subprocess.PIPE,
        )
        # Gunicorn touches no table until a request does: let it boot meanwhile.
        web = _start([sys.executable, "-m", "gunicorn", "-c", "python:nebula.gunicorn_conf"], env)
        # The stand-in says READY once it serves, its snapshot restored.
        wait_for_line(standin, b"READY", "the stand-in", 60)
        gateway = _start([sys.executable, "-m", "local.gateway"], env, stdout=subprocess.PIPE)
        wait_for_line(gateway, b"READY", "the jobs gateway", 60)
        prepared = subprocess.run(
            [sys.executable, "manage.py", "prepare_local"], cwd=ROOT, env=env, check=False
        )
        if prepared.returncode != 0:
            raise RunError("creating the tables or the local admin failed (see above)")
        _wait_http(f"http://127.0.0.1:{port}/healthz", web, "Gunicorn", 60)
        print(
            f"\n  Nebula is running on http://127.0.0.1:{port}/  (Ctrl-C stops it)"
            f"\n  jobs API (local gateway): {env['NEBULA_JOBS_API_URL']}\n",
            flush=True,
        )
        while True:
            for process, name in (
                (standin, "the stand-in"),
                (web, "Gunicorn"),
                (gateway, "the jobs gateway"),
            ):
                if process.poll() is not None:
                    raise RunError(f"{name} exited with status {process.returncode}")
            time.sleep(0.5)
    except _StopRequestedError:
        print("\nrun: stopping…", file=sys.stderr, flush=True)
        return 0
    except RunError as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if web is not None:
            _stop(web, "Gunicorn", 25)
        if gateway is not None:
            _stop(gateway, "the jobs gateway", 15)
        if standin is not None:
            _stop(standin, "the stand-in", 30)


if __name__ == "__main__":
    sys.exit(main())
