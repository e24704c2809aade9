"""Browser journeys (``make e2e``) against the real run path: ``python -m local.run``.

One run of ``local.run`` per session, on free ports, with its own state folder: the
moto stand-in, the local jobs gateway (the real Lambda handlers behind SigV4) and
Gunicorn, exactly as ``make run`` starts them. Debian's Chromium is driven through
Playwright; every page a journey visits is checked with axe-core (bundled with
``axe-playwright-python``: no network) and photographed at phone and desktop widths
(and in dark mode).

These tests are marked ``e2e``; ``make test`` leaves this folder out by path
(``--ignore=tests/e2e``, which no ``-m`` in its ``ARGS`` can undo) and ``make e2e``
runs only them. docs/testing.md, "Browser journeys", says what they cover.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import ROOT, free_port, wait_for_http

RESULTS = Path(os.environ.get("NEBULA_E2E_RESULTS", ROOT / "test-results" / "e2e"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "the local admin's e2e passphrase"
# Every wait in these tests ends: Playwright's own waits and navigations use this.
TIMEOUT_MS = 15_000
# axe-core impacts that fail a page.
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(autouse=True)
def dynamodb() -> None:
    """Replace the suite's per-test table reset: the journeys use make run's own stand-in."""
    return


# ---- The steps of a journey depend on the ones before ----
# pytest's "incremental testing" pattern: once a step of a class fails, the later
# steps are reported as xfail ("an earlier step failed") instead of failing on
# leftovers of the first failure.


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    failed = call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception)
    if failed and call.when == "call" and item.cls is not None:
        item.cls._failed_step = item.name


def pytest_runtest_setup(item: pytest.Item) -> None:
    failed = getattr(item.cls, "_failed_step", None) if item.cls is not None else None
    if failed is not None:
        pytest.xfail(f"an earlier step of this journey failed: {failed}")


# ---- The site: python -m local.run ----


@dataclass(frozen=True)
class Site:
    url: str
    state_dir: Path
    log: Path

    @property
    def mail_dir(self) -> Path:
        """Where local mode's file backend writes mail (docs/local-mode.md)."""
        return self.state_dir / "mail"

    def mail_to(self, address: str, containing: str, timeout: float = 10.0) -> str:
        """Return the newest mail to ``address`` whose text contains ``containing``."""
        deadline = time.monotonic() + timeout
        while True:
            # Mail is sent from a thread beside the request: it may land a moment later.
            messages = sorted(
                self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True
            )
            for message in messages:
                text = message.read_text()
                if f"To: {address}" in text and containing in text:
                    return text
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {address} with {containing!r}")
            time.sleep(0.2)

    def mail_link(self, address: str, path: str) -> str:
        """Return the link with ``path`` in the newest mail to ``address`` that has one."""
        text = self.mail_to(address, path)
        return re.search(rf"http://\S+{re.escape(path)}\S*", text).group(0)


def _run_env(port: int, state_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DJANGO_", "NEBULA_", "PORT"))
    }
    env.update(
        PORT=str(port),
        NEBULA_STANDIN_PORT=str(free_port()),
        NEBULA_GATEWAY_PORT=str(free_port()),
        NEBULA_LOCAL_STATE_DIR=str(state_dir),
        NEBULA_LOCAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        # A fixed set of workers: nothing restarts under the journeys.
        NEBULA_RELOAD="0",
    )
    return env


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory):
    """Start ``python -m local.run`` once; stop it (and everything it started) at the end."""
    state_dir = tmp_path_factory.mktemp("e2e-state")
    log = state_dir.parent / "run.log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"],
            cwd=ROOT,
            env=_run_env(port, state_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Nebula is running on" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"local.run did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        assert wait_for_http(url + "/readyz", timeout=30, process=process) == 200
        _run_log.append(log)
        yield Site(url=url, state_dir=state_dir, log=log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# ---- The browser ----


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` to run make e2e")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_MS * 2
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def new_context(browser):
    """Open a browser context (a separate browser profile: own cookies); close them at the end."""
    contexts = []

    def open_context(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


# ---- What every visited page goes through ----


def _wait_for_transitions(page) -> None:
    """Wait until no CSS transition or animation runs on ``page`` (at most TIMEOUT_MS).

    Polled from here with ``evaluate`` of a function: the site's CSP forbids the string
    evaluation ``wait_for_function`` uses.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while page.evaluate("() => document.getAnimations().some(a => a.playState === 'running')"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url}: a CSS animation still runs after {TIMEOUT_MS} ms")
        page.wait_for_timeout(50)


class PageChecker:
    """Run axe-core on a page and keep screenshots of it at phone and desktop widths."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.checked: list[str] = []

    def __call__(self, page, name: str) -> None:
        """Check ``page`` as it is now; ``name`` names its screenshots.

        Fails on a serious or critical axe-core violation at any width or scheme, and
        on a page of the site (not the admin) that scrolls sideways on a phone.
        """
        page.wait_for_load_state("load")
        original = page.viewport_size
        problems: list[str] = []
        try:
            for label, size, scheme in (
                ("phone", PHONE, "light"),
                ("desktop", DESKTOP, "light"),
                # The site and the admin follow the system's dark mode: check its colours too.
                ("desktop-dark", DESKTOP, "dark"),
            ):
                page.set_viewport_size(size)
                page.emulate_media(color_scheme=scheme)
                # The admin's links and buttons fade between colours (CSS transitions of
                # 0.15 s): check the colours they settle on, not a frame of the fade.
                _wait_for_transitions(page)
                problems += [f"[{label}] {p}" for p in self.violations(page)]
                if label == "phone" and not _fits(page) and "/admin/" not in page.url:
                    # The site's own pages fit a phone; Django's admin scrolls sideways there.
                    problems.append("[phone] the page is wider than the screen (sideways scroll)")
                path = RESULTS / f"{name}-{label}.png"
                page.screenshot(path=str(path), full_page=True, timeout=TIMEOUT_MS)
        finally:
            page.set_viewport_size(original)
            page.emulate_media(color_scheme="light")
        self.checked.append(f"{name}: {page.url}")
        if problems:
            pytest.fail(
                f"{name} ({page.url}) is hard to use (axe-core: serious or critical only):\n"
                + "\n".join(problems),
                pytrace=False,
            )

    def violations(self, page) -> list[str]:
        results = self.axe.run(page).response
        found = []
        for violation in results["violations"]:
            if violation["impact"] not in BLOCKING_IMPACTS:
                continue
            for node in violation["nodes"]:
                found.append(
                    f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
                    f"    at {', '.join(map(str, node['target']))}\n"
                    f"    {node['html'][:300]}\n"
                    f"    {node.get('failureSummary', '').strip()}".rstrip()
                )
        return found


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


_checked: list[str] = []
_run_log: list[Path] = []


@pytest.fixture(scope="session")
def check_page():
    """Check a page: axe-core (no serious or critical violation) and two screenshots."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.glob("*.png"):  # only this run's pictures, none from an older one
        old.unlink()
    checker = PageChecker()
    yield checker
    _checked.extend(checker.checked)


def pytest_terminal_summary(terminalreporter) -> None:
    if _checked:
        terminalreporter.write_line(
            f"e2e: {len(_checked)} pages checked with axe-core; screenshots at 390 and "
            f"1280 px in {RESULTS}"
        )
    if _run_log:
        terminalreporter.write_line(f"e2e: the output of python -m local.run is in {_run_log[0]}")
