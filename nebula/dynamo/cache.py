"""A Django cache backend on DynamoDB, shared by every process and container.

Rate limits need counters that all Gunicorn workers and all ECS tasks see, and
that grow atomically; this backend gives ``django.core.cache`` exactly that:
``add`` is a conditional put, ``incr`` an atomic ``ADD``. Expired items are
ignored on read (DynamoDB deletes TTL items only eventually).

    CACHES = {"default": {"BACKEND": "nebula.dynamo.cache.DynamoDBCache"}}
"""

import math
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from pynamodb.attributes import BinaryAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from datalayer.models import NebulaModel

# DynamoDB's TTL needs a time; "no expiry" items are kept for ~10 years.
_FOREVER = timedelta(days=3650)


class CacheEntry(NebulaModel):
    """One cache key: a pickled value, or a number that ``incr`` can add to."""

    class Meta:
        table_name = "cache"

    key = UnicodeAttribute(hash_key=True)
    value = BinaryAttribute(null=True, legacy_encoding=False)
    number = NumberAttribute(null=True)
    # DynamoDB deletes expired items only eventually: reads check this too.
    expires = TTLAttribute()


def _now() -> datetime:
    return datetime.now(UTC)


def _condition_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoDBCache(BaseCache):
    """Django cache API over the ``cache`` table."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def _expiry(self, timeout: float | object | None) -> datetime:
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            return _now() + _FOREVER
        # Django hands over an absolute time (epoch seconds). DynamoDB keeps whole
        # seconds and PynamoDB drops the fraction: rounded up, an entry lives at least
        # its timeout (rounded down, one set for 1 s could be expired at once).
        return datetime.fromtimestamp(math.ceil(timeout), tz=UTC)

    def _entry(self, key: str, value: Any, timeout: Any) -> CacheEntry:
        entry = CacheEntry(key, expires=self._expiry(timeout))
        if isinstance(value, int) and not isinstance(value, bool):
            entry.number = value
        else:
            entry.value = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        return entry

    def _live(self, key: str) -> CacheEntry | None:
        try:
            entry = CacheEntry.get(key, consistent_read=True)
        except CacheEntry.DoesNotExist:
            return None
        return entry if entry.expires > _now() else None

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        entry = self._entry(key, value, timeout)
        try:
            entry.save(condition=CacheEntry.key.does_not_exist() | (CacheEntry.expires <= _now()))
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        entry = self._live(key)
        if entry is None:
            return default
        if entry.number is not None:
            return int(entry.number)
        return pickle.loads(entry.value)  # noqa: S301 - only this backend writes it

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._entry(key, value, timeout).save()

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            CacheEntry(key).update(
                actions=[CacheEntry.expires.set(self._expiry(timeout))],
                condition=CacheEntry.expires > _now(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def delete(self, key: str, version: Any = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            CacheEntry(key).delete(condition=CacheEntry.key.exists())
        except DeleteError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def incr(self, key: str, delta: int = 1, version: Any = None) -> int:
        """Add ``delta`` atomically; raise ValueError if the key is missing or expired."""
        key = self.make_and_validate_key(key, version=version)
        entry = CacheEntry(key)
        try:
            entry.update(
                actions=[CacheEntry.number.add(delta)],
                condition=CacheEntry.number.exists() & (CacheEntry.expires > _now()),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                raise ValueError(f"Key '{key}' not found") from exc
            raise
        return int(entry.number)

    def has_key(self, key: str, version: Any = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._live(key) is not None

    def clear(self) -> None:
        """Delete every item (a full scan: for tests and operators, never a request)."""
        with CacheEntry.batch_write() as batch:
            for entry in CacheEntry.scan(attributes_to_get=["key"]):
                batch.delete(entry)
