"""Liveness and readiness answers for the load balancer and ``make run``."""

import logging

from django.http import HttpResponse, JsonResponse

from datalayer.errors import is_unavailable
from datalayer.tables import table_problems

from .http import unavailable_response

logger = logging.getLogger(__name__)


def liveness() -> JsonResponse:
    """Say the process is up; touch no dependency."""
    return JsonResponse({"status": "ok"})


def readiness() -> HttpResponse:
    """Say whether DynamoDB answers and every table exists; 503 with the reason if not."""
    try:
        problems = table_problems()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which
        reason = "DynamoDB is unreachable" if is_unavailable(exc) else "DynamoDB check failed"
        logger.info("readiness check failed: %s", exc)
        problems = [reason]
    if not problems:
        return JsonResponse({"status": "ok"})
    logger.warning("readiness: %s", "; ".join(problems))
    return unavailable_response(data={"status": "unavailable", "reasons": problems})
