"""Worker: run one job, invoked asynchronously by submit with ``{"job_id", "kind", "owner_id"}``.

1. Mark the job running (queued → running). A job that is not queued any more (a
   duplicate delivery, a retried job already finished) is left alone.
2. Run the kind's work function (``lambdas.work.REGISTRY``), which reports progress.
3. Succeed with the result's location, or fail with a reason a person can read:
   :class:`~lambdas.work.JobError`'s message, or a generic one for any other exception
   (logged with its traceback). Either way the invocation ends normally: Lambda
   retries only what the worker could not record (DynamoDB unavailable...), and after
   the last retry the on-failure destination, :func:`on_failure`, fails the job.

The data-layer calls go through :class:`JobStore`, so tests can pass their own.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalayer import jobs
from datalayer.calls import counting_calls
from datalayer.jobs import IllegalTransitionError

from .observability import logger, metrics
from .runtime import ensure_configured
from .work import REGISTRY, JobError, WorkFunction

UNEXPECTED = "The job stopped on an unexpected error ({name}). It was logged; you can try again."
GAVE_UP = "The job could not be run (it failed {attempts} times). You can try again."


@dataclass(frozen=True)
class JobStore:
    """The job-record moves the worker makes (the data layer's, unless a test says otherwise)."""

    mark_running: Callable[..., Any] = jobs.job_mark_running
    report_progress: Callable[..., Any] = jobs.job_report_progress
    succeed: Callable[..., Any] = jobs.job_succeed
    fail: Callable[..., Any] = jobs.job_fail


def run_job(
    event: Mapping[str, Any],
    *,
    store: JobStore | None = None,
    registry: Mapping[str, WorkFunction] | None = None,
) -> dict[str, Any]:
    """Run the job ``event`` names; return its id and how it ended."""
    store = store or JobStore()
    registry = REGISTRY if registry is None else registry
    job_id, kind = str(event["job_id"]), str(event["kind"])
    logger.append_keys(job_id=job_id, kind=kind)
    metrics.add_dimension(name="kind", value=kind)
    try:
        job = store.mark_running(job_id=job_id)
    except IllegalTransitionError as exc:
        logger.warning("job not started: it is not queued", extra={"reason": str(exc)})
        metrics.add_metric(name="JobsSkipped", unit=MetricUnit.Count, value=1)
        return {"job_id": job_id, "outcome": "skipped"}
    metrics.add_metric(name="JobsStarted", unit=MetricUnit.Count, value=1)

    try:
        return _work_and_finish(job, kind, store, registry)
    except IllegalTransitionError as exc:
        # The sweep failed it (past its deadline) or it was retried meanwhile: its
        # record has moved on, and this run's result is dropped.
        logger.warning("job moved on while it ran", extra={"reason": str(exc)})
        metrics.add_metric(name="JobsAbandoned", unit=MetricUnit.Count, value=1)
        return {"job_id": job_id, "outcome": "abandoned"}


def _work_and_finish(
    job: Any, kind: str, store: JobStore, registry: Mapping[str, WorkFunction]
) -> dict[str, Any]:
    job_id = job.id

    def progress(percent: int, message: str) -> None:
        store.report_progress(job_id=job_id, progress=percent, message=message)

    work = registry.get(kind)
    try:
        if work is None:
            raise JobError("This kind of job is not available.")
        result = work(job, progress)
    except IllegalTransitionError:
        raise  # a progress report found the job moved on: stop, fail nothing
    except JobError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of the work fails the job, readably
        logger.exception("the work raised")
        reason = UNEXPECTED.format(name=exc.__class__.__name__)
    else:
        key, message = result if isinstance(result, tuple) else (result, "Done.")
        store.succeed(job_id=job_id, result_key=key, message=message)
        metrics.add_metric(name="JobsSucceeded", unit=MetricUnit.Count, value=1)
        logger.info("job succeeded", extra={"result_key": key})
        return {"job_id": job_id, "outcome": "succeeded"}
    store.fail(job_id=job_id, reason=reason)
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
    logger.info("job failed", extra={"reason": reason})
    return {"job_id": job_id, "outcome": "failed"}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one job (the asynchronous invocation from submit)."""
    ensure_configured()
    with counting_calls() as calls:
        try:
            return run_job(event)
        finally:
            logger.info("invocation done", extra={"dynamodb_calls": calls.total})


def fail_after_retries(record: Mapping[str, Any], *, store: JobStore | None = None) -> bool:
    """Fail the job of a destination record; return False if it had already finished."""
    store = store or JobStore()
    payload = record.get("requestPayload") or {}
    job_id = str(payload.get("job_id", ""))
    attempts = int(record.get("requestContext", {}).get("approximateInvokeCount", 3))
    error = record.get("responsePayload") or {}
    logger.error(
        "worker gave up after its retries",
        extra={"job_id": job_id, "error_type": error.get("errorType"), "attempts": attempts},
    )
    try:
        store.fail(job_id=job_id, reason=GAVE_UP.format(attempts=attempts))
    except IllegalTransitionError:
        failed = False  # it had finished (or been swept) meanwhile
    else:
        failed = True
        metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="JobsGivenUp", unit=MetricUnit.Count, value=1)
    return failed


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def on_failure(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The worker's on-failure destination: Lambda's record after the last retry."""
    ensure_configured()
    return {"failed": fail_after_retries(event)}
