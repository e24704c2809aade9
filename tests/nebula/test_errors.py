"""What counts as "DynamoDB is unavailable" (a 503 and no further call), and what does not."""

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import GetError, PutError, TransactWriteError, VerboseClientError

from datalayer.errors import UnavailableError, is_unavailable

pytestmark = pytest.mark.no_dynamodb

URL = "https://dynamodb.eu-west-1.amazonaws.com"


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "GetItem")


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url=URL),
        ConnectTimeoutError(endpoint_url=URL),
        ReadTimeoutError(endpoint_url=URL),
        ConnectionClosedError(endpoint_url=URL),
        UnavailableError(operation="GetItem", cause="read timeout"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_network_failures_mean_unavailable(exc: Exception) -> None:
    assert is_unavailable(exc)


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    ],
)
def test_answers_that_say_try_later_mean_unavailable(code: str) -> None:
    assert is_unavailable(_client_error(code))


@pytest.mark.parametrize(
    "code",
    [
        "ConditionalCheckFailedException",
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "TransactionCanceledException",
    ],
)
def test_answers_about_the_request_itself_are_not_an_outage(code: str) -> None:
    assert not is_unavailable(_client_error(code))


def test_a_5xx_answer_without_a_dynamodb_code_means_unavailable() -> None:
    # What botocore makes of a 500 whose body it cannot parse (a proxy's page).
    unparsed = {
        "Error": {"Code": "500", "Message": "Internal Server Error"},
        "ResponseMetadata": {"HTTPStatusCode": 500},
    }
    assert is_unavailable(ClientError(unparsed, "PutItem"))
    # PynamoDB's own error keeps the code but drops the status.
    assert is_unavailable(
        PutError("Failed", VerboseClientError({"Error": unparsed["Error"]}, "PutItem"))
    )
    assert is_unavailable(ClientError({"ResponseMetadata": {"HTTPStatusCode": 503}}, "GetItem"))


def test_a_4xx_answer_without_a_dynamodb_code_is_not_an_outage() -> None:
    unparsed = {
        "Error": {"Code": "400", "Message": "Bad Request"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    assert not is_unavailable(ClientError(unparsed, "PutItem"))


def test_a_pynamodb_error_is_judged_by_its_cause() -> None:
    assert is_unavailable(GetError("Failed to get item", ReadTimeoutError(endpoint_url=URL)))
    assert is_unavailable(TransactWriteError("Failed", _client_error("ThrottlingException")))
    assert not is_unavailable(PutError("Failed", _client_error("ConditionalCheckFailedException")))
    assert not is_unavailable(GetError("Failed to get item"))


def test_a_cause_chained_with_from_counts() -> None:
    outer = RuntimeError("could not load the session")
    outer.__cause__ = EndpointConnectionError(endpoint_url=URL)  # raise ... from ...

    assert is_unavailable(outer)


def test_other_errors_are_bugs_not_outages() -> None:
    assert not is_unavailable(ValueError("a bug"))
    assert not is_unavailable(KeyError("Item"))


def test_a_cycle_of_causes_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first

    assert not is_unavailable(first)
