"""Liveness and readiness answers for the load balancer and ``make run``."""

import logging

from django.conf import settings
from django.http import JsonResponse

from .dynamo.errors import is_unavailable
from .dynamo.tables import table_problems

logger = logging.getLogger(__name__)


def liveness() -> JsonResponse:
    """Say the process is up; touch no dependency."""
    return JsonResponse({"status": "ok"})


def readiness() -> JsonResponse:
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
    response = JsonResponse({"status": "unavailable", "reasons": problems}, status=503)
    response["Retry-After"] = str(settings.NEBULA_RETRY_AFTER_SECONDS)
    response._has_been_logged = True  # the warning above says why; no ERROR line too
    return response
