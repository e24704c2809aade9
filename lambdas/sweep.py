"""Sweep: fail every queued or running job past its deadline (a scheduled function).

The schedule (every few minutes) is the template's; ``manage.py`` has the same for
operators. The reasons people read are the data layer's (``datalayer.jobs``).
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalayer.jobs import job_sweep

from .observability import logger, metrics
from .runtime import ensure_configured


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Fail the jobs past their deadline; return how many."""
    ensure_configured()
    swept = job_sweep()
    metrics.add_metric(name="JobsSwept", unit=MetricUnit.Count, value=swept)
    logger.info("sweep done", extra={"swept": swept})
    return {"swept": swept}
