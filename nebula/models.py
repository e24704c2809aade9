"""Tables of the shared plumbing (imported here so Django registers them)."""

from .dynamo.cache import CacheEntry

__all__ = ["CacheEntry"]
