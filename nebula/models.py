"""Tables of the shared plumbing (imported here so Django registers them at startup).

``datalayer`` is no Django app, so its models are imported here: ``manage.py migrate``
and ``/readyz`` see every table the site uses, the job record and the dashboard's
counters included.
"""

from datalayer.counters import Counter
from datalayer.jobs import Job

from .audit import AuditEntry
from .dynamo.cache import CacheEntry

__all__ = ["AuditEntry", "CacheEntry", "Counter", "Job"]
