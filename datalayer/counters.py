"""Aggregate counters for the admin's dashboard: one item per count, changed by atomic ADDs.

The dashboard never scans a table at view time: every write it charts also adds
to a counter here, in the service (or job transition) that made the write.

- :func:`counter_add` is ONE ``UpdateItem`` with ``ADD value :delta``: DynamoDB applies
  concurrent adds one after the other, so no add is lost and none needs a read first.
  Counting is best effort by design: a failed add is logged and swallowed, because a
  sign-up, a contact message or a job must never fail for the sake of a chart. A count
  may therefore miss an event during an outage; the dashboard says counts are approximate.
- :func:`counter_move` takes one from a status and gives one to another (two adds,
  not a transaction: hot counters would make concurrent transactions conflict).
- :func:`counter_get_many` reads many counters in ONE ``BatchGetItem`` (up to 100 names).

Names: ``"<metric>#<YYYY-MM-DD>"`` per day and ``"<metric>#<YYYY-MM-DDTHH>"`` per hour
(both expire with a TTL), ``"<metric>#<status>"`` for counts by status (kept).

Django-free: the site's services and the Lambda code (job transitions) both call it.
"""

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from botocore.exceptions import BotoCoreError
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from .models import NebulaModel

logger = logging.getLogger(__name__)

# Daily and hourly counters outlive the dashboard's 30-day window a little, then go.
DAILY_TTL = timedelta(days=40)
HOURLY_TTL = timedelta(days=3)
BATCH_GET_MAX = 100  # keys in one BatchGetItem (a DynamoDB limit)

# The metrics the dashboard charts, and who counts them.
SIGNUPS = "signups"  # per day: accounts.services.user_create
SESSIONS = "sessions"  # per hour, sign-ins: accounts.services.user_record_login
CONTACT_MESSAGES = "contact"  # by status: contact.services
JOBS = "jobs"  # by status: datalayer.jobs


class Counter(NebulaModel):
    """One count: sign-ups on a day, sessions started in an hour, jobs in a status..."""

    class Meta:
        table_name = "counters"

    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


def daily_name(metric: str, day: date) -> str:
    """Return the counter name of ``metric`` on ``day`` ("signups#2026-11-29")."""
    return f"{metric}#{day:%Y-%m-%d}"


def hourly_name(metric: str, moment: datetime) -> str:
    """Return the counter of ``metric`` in the UTC hour of ``moment`` ("sessions#2026-11-29T09")."""
    return f"{metric}#{moment.astimezone(UTC):%Y-%m-%dT%H}"


def status_name(metric: str, status: str) -> str:
    """Return the counter name of ``metric`` in ``status`` ("contact#new")."""
    return f"{metric}#{status}"


def counter_add(name: str, delta: int = 1, *, expires: datetime | None = None) -> bool:
    """Add ``delta`` to the counter (created at 0 if missing); False if the add failed.

    Never raises for DynamoDB's sake: the failure is logged as a warning, and the
    caller's own write (already done) stands.
    """
    actions = [Counter.value.add(delta)]
    if expires is not None:
        actions.append(Counter.expires.set(expires))
    try:
        Counter._get_connection().update_item(name, actions=actions)
    except (PynamoDBException, BotoCoreError) as exc:
        logger.warning("counter %s: could not add %d (%s)", name, delta, exc)
        return False
    return True


def counter_add_daily(metric: str, delta: int = 1, *, now: datetime | None = None) -> bool:
    """Add to today's (UTC) counter of ``metric``; it expires after :data:`DAILY_TTL`."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return counter_add(daily_name(metric, now.date()), delta, expires=now + DAILY_TTL)


def counter_add_hourly(metric: str, delta: int = 1, *, now: datetime | None = None) -> bool:
    """Add to this UTC hour's counter of ``metric``; it expires after :data:`HOURLY_TTL`."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return counter_add(hourly_name(metric, now), delta, expires=now + HOURLY_TTL)


def counter_move(metric: str, *, source: str | None, target: str | None) -> None:
    """Count one item leaving status ``source`` and entering ``target`` (None: neither)."""
    if source == target:
        return
    if source is not None:
        counter_add(status_name(metric, source), -1)
    if target is not None:
        counter_add(status_name(metric, target), 1)


def counter_get_many(names: Iterable[str]) -> dict[str, int]:
    """Return every named counter's value (0 for a missing one) from ONE BatchGetItem.

    Raises ``ValueError`` for more than :data:`BATCH_GET_MAX` names; DynamoDB errors
    propagate (the dashboard shows its own message).
    """
    wanted = list(dict.fromkeys(names))
    if len(wanted) > BATCH_GET_MAX:
        raise ValueError(f"at most {BATCH_GET_MAX} counters in one read, not {len(wanted)}")
    values = dict.fromkeys(wanted, 0)
    if wanted:
        for counter in Counter.batch_get(wanted):
            values[counter.name] = int(counter.value)
    return values
