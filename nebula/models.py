"""Tables of the shared plumbing (imported here so Django registers them)."""

from .audit import AuditEntry
from .dynamo.cache import CacheEntry

__all__ = ["AuditEntry", "CacheEntry"]
