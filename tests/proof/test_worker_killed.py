"""A Lambda worker whose process dies mid-job (out of memory, the sandbox reclaimed): never stuck.

The other Lambda faults are proven elsewhere (docs/testing.md, "Proof"): a worker that
raises, crashes on every attempt (the on-failure destination) or hangs past its
deadline (the sweep), through the local gateway in tests/lambdas/test_path.py. What a
thread cannot show is a process killed outright: here the real worker handler runs in
a process of its own, is SIGKILLed while the job is running, Lambda's retry of the
invocation finds the job no longer queued and leaves it alone (it never runs twice),
and the sweep fails it at its deadline with a reason the owner reads.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from datalayer.jobs import TOOK_TOO_LONG, JobKind, JobStatus, job_create, job_get
from lambdas import sweep, worker
from local.gateway import LambdaContext
from tests.lambdas.conftest import lambda_env  # noqa: F401 - the fixture
from tests.support import ROOT

pytestmark = pytest.mark.slow

OWNER = "c" * 32
# The real handler, in a process of its own, with a work function that never ends.
WORKER = """
import json, sys, threading
from lambdas import work, worker
from datalayer.jobs import JobKind
from local.gateway import LambdaContext

def hang(job, progress):
    progress(40, "Halfway")
    print("RUNNING", flush=True)
    threading.Event().wait()

work.REGISTRY[JobKind.EXPORT] = hang
worker.handler(json.loads(sys.argv[1]), LambdaContext("nebula-worker", 900, "eu-west-1"))
"""


def test_a_worker_killed_mid_job_is_failed_by_the_sweep_and_never_run_twice(
    lambda_env: str,  # noqa: F811 - the fixture
) -> None:
    job, _ = job_create(
        owner_id=OWNER, kind=JobKind.EXPORT, params={}, idempotency_key="kill-1", run_seconds=2
    )
    event = {"job_id": job.id, "kind": "export", "owner_id": OWNER}
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(event)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout.readline().strip() == b"RUNNING"
        assert job_get(job_id=job.id).status == JobStatus.RUNNING
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    # Lambda retries an invocation whose environment died: the job is not queued any
    # more, so the retry leaves it alone (it must never run twice at once).
    retry = worker.handler(event, LambdaContext("nebula-worker", 900, "eu-west-1"))
    assert retry["outcome"] == "skipped"
    stuck = job_get(job_id=job.id)
    assert (stuck.status, stuck.progress) == (JobStatus.RUNNING, 40)

    # Nothing else will ever move it: the sweep does, once its deadline has passed.
    assert sweep.handler({}, LambdaContext("nebula-sweep", 60, "eu-west-1")) == {"swept": 0}
    time.sleep(max(0.0, stuck.deadline.timestamp() - time.time()) + 1.1)
    assert sweep.handler({}, LambdaContext("nebula-sweep", 60, "eu-west-1")) == {"swept": 1}

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, TOOK_TOO_LONG)
    assert failed.can_retry
