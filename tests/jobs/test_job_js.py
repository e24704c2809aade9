"""static/js/job.js, the job page's poller, run in Node against a stand-in page and fetch."""

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT

NODE = shutil.which("node")
pytestmark = [
    pytest.mark.no_dynamodb,
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed"),
]


def _state(status: str, progress: int, **extra: object) -> dict:
    finished = status in ("succeeded", "failed", "could_not_start")
    return {
        "status": status,
        "status_name": status.title(),
        "status_tone": "info",
        "progress": progress,
        "message": "",
        "error": "",
        "finished": finished,
        "can_retry": status in ("failed", "could_not_start"),
        "result_url": None,
        **extra,
    }


def _run(*states: object) -> dict:
    result = subprocess.run(
        [
            NODE,
            str(ROOT / "tests/jobs/js/job_harness.js"),
            str(ROOT / "static/js/job.js"),
            json.dumps(states),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_it_polls_every_two_seconds_until_the_job_is_done_and_shows_the_link():
    seen = _run(
        _state("running", 40, message="Collecting your sessions"),
        _state("succeeded", 100, result_url="https://media.example/r.zip?X-Amz-Signature=1"),
    )

    assert seen["delays"] == [2000, 2000]
    assert seen["fetched"] == ["/jobs/abc/status.json"] * 2
    running, done = seen["snapshots"]
    assert (running["progress"]["value"], running["message"]["textContent"]) == (
        40,
        "Collecting your sessions",
    )
    assert not running["message"]["hidden"]
    assert running["result"]["hidden"]
    assert (done["status"]["textContent"], done["progress"]["value"]) == ("Succeeded", 100)
    assert done["result-link"]["href"] == "https://media.example/r.zip?X-Amz-Signature=1"
    assert not done["result"]["hidden"]
    assert done["refresh"]["hidden"]


def test_a_failed_job_shows_its_error_and_the_retry_button():
    seen = _run(_state("failed", 30, error="The export broke."))

    [failed] = seen["snapshots"]
    assert (failed["error"]["textContent"], failed["error"]["hidden"]) == (
        "The export broke.",
        False,
    )
    assert not failed["retry"]["hidden"]
    assert failed["status"]["className"] == "badge badge--info"


def test_after_a_failed_fetch_it_tries_again_more_slowly():
    seen = _run("error", _state("succeeded", 100))

    assert seen["delays"] == [2000, 4000]
    assert seen["snapshots"][-1]["status"]["textContent"] == "Succeeded"
