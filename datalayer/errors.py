"""Tell an unavailable DynamoDB apart from a request DynamoDB refused on its merits."""

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

# Error codes that mean "try again later", not "this request is wrong".
UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
    }
)


def is_unavailable_answer(response: dict | None) -> bool:
    """Return True if a parsed DynamoDB answer says "try again later".

    By its error code, or by a 5xx status whatever the body: a failing server or a
    proxy in front may answer 500 or 503 with a page botocore cannot parse, and
    botocore then names the error by the status ("500"). PynamoDB's errors keep that
    code but not the status. A 5xx is never about the request itself.
    """
    if not response:
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    if code in UNAVAILABLE_CODES or (code.isdigit() and int(code) >= 500):
        return True
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500


class UnavailableError(BotoCoreError):
    """A call not sent: DynamoDB was found unavailable earlier in this request (or invocation).

    Raised by the hook in :mod:`datalayer.calls`; a ``BotoCoreError`` like the
    connection and timeout errors it stands for, so callers treat it the same.
    """

    fmt = "{operation} not sent: DynamoDB was unavailable earlier in this request ({cause})"


def is_unavailable(exc: BaseException) -> bool:
    """Return True if ``exc`` (or what caused it) says DynamoDB cannot serve us now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BotoCoreError):
            # Connection refused, DNS failure, connect/read timeout, closed connection...
            return True
        if isinstance(current, ClientError):
            return is_unavailable_answer(current.response)
        if isinstance(current, PynamoDBException) and current.cause is not None:
            current = current.cause
        else:
            current = current.__cause__
    return False


def is_condition_failed(exc: BaseException) -> bool:
    """Return True if ``exc`` is a PynamoDB write refused by its condition expression."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
