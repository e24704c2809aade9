"""The site's one client of the jobs API (import-linter keeps every other module off it).

:func:`start_job` asks the API (API Gateway, ``AWS_IAM`` authorisation; locally the
gateway ``make run`` starts) to start a job the site has already recorded as queued.
The request is signed with SigV4 by botocore's own signer, with the credentials of
the default chain (the ECS task role in production), for service ``execute-api``
and ``AWS_REGION``; an ``Idempotency-Key`` header makes a repeated call harmless.

Failures come back as exceptions the caller can show calmly:
:class:`JobsApiUnavailableError` when the API cannot be reached or will not take the
request now (connection failure, timeout, 403, 429, 5xx, no URL or credentials set),
:class:`JobsApiRejectedError` when it refused the request itself (other 4xx). Either
way the job did not start; the caller marks it "could not start".
"""

import functools
import json
import logging
from typing import Any

import botocore.session
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from django.conf import settings

logger = logging.getLogger("nebula.jobs.api")

SERVICE = "execute-api"


class JobsApiError(Exception):
    """The jobs API did not accept the job: it did not start."""


class JobsApiUnavailableError(JobsApiError):
    """The jobs API could not be reached, refused our signature, or failed (try later)."""


class JobsApiRejectedError(JobsApiError):
    """The jobs API refused this request as invalid (a 4xx other than 403 and 429)."""


@functools.cache
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def _credentials() -> Any:
    credentials = _session().get_credentials()
    if credentials is None:
        raise JobsApiUnavailableError("no AWS credentials to sign the jobs API request with")
    # Task-role credentials refresh themselves; take one consistent snapshot per request.
    return credentials.get_frozen_credentials()


def start_job(*, job_id: str, kind: str, owner_id: str, idempotency_key: str) -> None:
    """Ask the jobs API to start the queued job; return once it accepted it (202).

    Raise :class:`JobsApiUnavailableError` or :class:`JobsApiRejectedError` otherwise.
    """
    base = settings.NEBULA_JOBS_API_URL.rstrip("/")
    if not base:
        raise JobsApiUnavailableError("NEBULA_JOBS_API_URL is not set")
    body = json.dumps({"job_id": job_id, "kind": kind, "owner_id": owner_id}).encode()
    request = AWSRequest(
        method="POST",
        url=f"{base}/jobs",
        data=body,
        headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
    )
    SigV4Auth(_credentials(), SERVICE, settings.AWS_REGION).add_auth(request)
    prepared = request.prepare()
    try:
        response = _pool().request(
            "POST",
            prepared.url,
            body=prepared.body,
            headers=dict(prepared.headers.items()),
            timeout=urllib3.Timeout(
                connect=settings.NEBULA_JOBS_API_CONNECT_TIMEOUT,
                read=settings.NEBULA_JOBS_API_READ_TIMEOUT,
            ),
            redirect=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        logger.warning("jobs API unreachable: %s", exc, extra={"job_id": job_id})
        raise JobsApiUnavailableError(f"the jobs API could not be reached: {exc}") from exc
    if response.status == 202:
        return
    detail = response.data[:500].decode(errors="replace")
    logger.warning("jobs API answered %s: %s", response.status, detail, extra={"job_id": job_id})
    if response.status in (403, 429) or response.status >= 500:
        raise JobsApiUnavailableError(f"the jobs API answered {response.status}")
    raise JobsApiRejectedError(f"the jobs API answered {response.status}: {detail}")
