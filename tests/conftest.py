"""One moto server per test session (per xdist worker), reset before every test.

Tests marked ``no_dynamodb`` (pure functions, or tests that start a stand-in of
their own) get neither, and a run of them alone never starts the shared one.
"""

import os
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support import free_port, start_standin


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start the moto server and point botocore (and every child process) at it."""
    port = free_port()
    process = start_standin(port)
    endpoint = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL_DYNAMODB",)}
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    yield endpoint
    process.terminate()
    process.wait(10)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def dynamodb(request: pytest.FixtureRequest) -> str | None:
    """Give each test empty, freshly created tables (none for ``no_dynamodb`` tests)."""
    if request.node.get_closest_marker("no_dynamodb"):
        return None
    from datalayer.tables import ensure_all_tables

    moto_endpoint = request.getfixturevalue("moto_endpoint")
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    ensure_all_tables()
    return moto_endpoint
