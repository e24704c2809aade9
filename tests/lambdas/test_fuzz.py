"""Fuzz the jobs API from its document (schemathesis), each request SigV4-signed.

Every generated request, valid or not, goes through the local gateway (verification)
to the real submit handler. The checks: no 5xx, answers as the document declares,
schema-violating requests refused, valid ones accepted, invalid auth refused. Two
checks are left out because API Gateway (so the local gateway) answers otherwise than
schemathesis assumes: it expects 401 when the required ``Authorization`` header is
missing, where ``AWS_IAM`` answers 403; and 405 for a method the document does not
declare, where API Gateway answers 403 ``Missing Authentication Token``. The gateway
tests check both answers.
"""

import os

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import missing_required_header, unsupported_method

from lambdas import api, submit

schema = schemathesis.openapi.from_path(api.DOCUMENT)


class SigV4RequestsAuth(requests.auth.AuthBase):
    """Sign the final request (its exact body bytes) with botocore, as the site does."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.signer = SigV4Auth(credentials, "execute-api", region)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Authorization" not in request.headers:
            # The document declares the header (its security scheme): a case without
            # it is schemathesis testing that an unsigned request is refused.
            return request
        body = request.body or b""
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body.encode() if isinstance(body, str) else body,
            headers={
                name: value
                for name, value in request.headers.items()
                if name.lower() in ("content-type", "idempotency-key")
            },
        )
        self.signer.add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


@pytest.fixture
def signed(gateway) -> None:
    """Sign every request schemathesis sends (it knows the auth is ours and tests it)."""
    schema.auth.set_from_requests(
        SigV4RequestsAuth(
            Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]),
            "eu-west-1",
        )
    )


@pytest.fixture
def recorded_starts():
    started: list[dict] = []
    submit.use_worker_invoker(started.append)
    yield started
    submit.use_worker_invoker(None)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_request_as_its_document_says(case, gateway, signed, recorded_starts):
    case.call_and_validate(
        base_url=gateway.api_url,
        excluded_checks=[missing_required_header, unsupported_method],
    )
