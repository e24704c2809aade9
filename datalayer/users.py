"""Create imported accounts without Django: the bulk user import job's writes (Lambda).

The site's ``accounts.services.user_create`` writes a user item and an email claim
item in one transaction; the import job writes the **same item shapes** (the
attributes, types and formats of ``accounts.models.User`` and ``EmailClaim``;
tests/lambdas/test_import_users.py compares them) with the low-level client, since the
Lambda code has no Django and so no ``accounts`` models:

- ``users``: ``id`` (uuid4 hex), ``email`` (canonical), ``password`` (an unusable one,
  as Django's ``make_password(None)``: ``!`` and 40 random letters and digits: the
  owner sets a password with "Forgot your password?"), ``display_name``, the four
  flags, ``date_joined`` (PynamoDB's UTC format), ``email_changes`` 0, ``version`` 1;
- ``email-claims``: ``email`` (the lower-cased canonical address), ``user_id``.

Each account is a ``Put`` of the user (``attribute_not_exists(id)``) and a ``Put`` of
its claim (``attribute_not_exists(email)``): an address that has an account is never
overwritten. :func:`users_create` writes up to :data:`TRANSACTION_USERS` accounts per
``TransactWriteItems``; when DynamoDB cancels one because some claims exist (a race
with a sign-up), the accounts whose claim failed are skipped and the rest written again.
"""

import secrets
import string
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from . import models
from .counters import SIGNUPS, counter_add_daily
from .emails import email_key
from .usercsv import NewUser

USERS = "users"
EMAIL_CLAIMS = "email-claims"
# Two items per account; DynamoDB takes 100 items per transaction.
TRANSACTION_USERS = 25
# BatchGetItem takes 100 keys per call.
CLAIM_READ_BATCH = 100
# Django's prefix: has_usable_password() is False for these.
UNUSABLE_PASSWORD_PREFIX = "!"  # noqa: S105 - a marker, not a password
_UNUSABLE_SUFFIX_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
# PynamoDB's UTCDateTimeAttribute format, so the site reads the time back.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"


def unusable_password() -> str:
    """Return a password hash no password matches (Django's ``make_password(None)`` form)."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(_UNUSABLE_SUFFIX_LENGTH))
    return UNUSABLE_PASSWORD_PREFIX + suffix


def user_item(new: NewUser, *, user_id: str, now: datetime) -> dict[str, Any]:
    """Return the ``users`` item of a new account, in DynamoDB's JSON."""
    return {
        "id": {"S": user_id},
        "email": {"S": new.email},
        "password": {"S": unusable_password()},
        "display_name": {"S": new.display_name},
        "is_active": {"BOOL": new.is_active},
        "is_staff": {"BOOL": new.is_staff},
        "is_superuser": {"BOOL": new.is_superuser},
        "email_verified": {"BOOL": new.email_verified},
        "date_joined": {"S": now.astimezone(UTC).strftime(_TIME_FORMAT)},
        "email_changes": {"N": "0"},
        "version": {"N": "1"},
    }


def claim_item(new: NewUser, *, user_id: str) -> dict[str, Any]:
    """Return the ``email-claims`` item that makes the account's address unique."""
    return {"email": {"S": email_key(new.email)}, "user_id": {"S": user_id}}


def claimed_emails(keys: Iterable[str]) -> set[str]:
    """Return which of these claim keys (``email_key``) already have an account."""
    wanted = list(dict.fromkeys(keys))
    table = models.table_name(EMAIL_CLAIMS)
    client = models.connection().client
    found: set[str] = set()
    for start in range(0, len(wanted), CLAIM_READ_BATCH):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"email": {"S": key}} for key in wanted[start : start + CLAIM_READ_BATCH]],
                "ProjectionExpression": "email",
                "ConsistentRead": True,
            }
        }
        while request:
            answer = client.batch_get_item(RequestItems=request)
            found.update(item["email"]["S"] for item in answer["Responses"].get(table, []))
            request = answer.get("UnprocessedKeys") or {}
    return found


def users_create(accounts: Sequence[NewUser], *, now: datetime | None = None) -> list[bool]:
    """Create each account unless its address has one; return created or not, in order."""
    now = now or datetime.now(UTC)
    created = [False] * len(accounts)
    for start in range(0, len(accounts), TRANSACTION_USERS):
        indexes = list(range(start, min(start + TRANSACTION_USERS, len(accounts))))
        while indexes:
            taken = _write(accounts, indexes, now=now)
            if taken is None:
                for index in indexes:
                    created[index] = True
                break
            indexes = [index for index in indexes if index not in taken]
    if any(created):
        counter_add_daily(SIGNUPS, sum(created))  # the dashboard's sign-ups (best effort)
    return created


def _write(accounts: Sequence[NewUser], indexes: list[int], *, now: datetime) -> set[int] | None:
    """Write these accounts in one transaction; None if done, else the ones whose claim failed."""
    users, claims = models.table_name(USERS), models.table_name(EMAIL_CLAIMS)
    items: list[dict[str, Any]] = []
    for index in indexes:
        user_id = uuid.uuid4().hex
        items.append(
            {
                "Put": {
                    "TableName": users,
                    "Item": user_item(accounts[index], user_id=user_id, now=now),
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
        )
        items.append(
            {
                "Put": {
                    "TableName": claims,
                    "Item": claim_item(accounts[index], user_id=user_id),
                    "ConditionExpression": "attribute_not_exists(email)",
                }
            }
        )
    try:
        models.connection().client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        taken = {
            indexes[position // 2]
            for position, code in enumerate(reasons)
            if code == "ConditionalCheckFailed"
        }
        if not taken:
            raise  # cancelled for another reason (a conflict, throttling): let it retry
        return taken
    return None
