"""Tables of the shared plumbing (imported here so Django registers them at startup).

``datalayer`` is no Django app, so its models are imported here: ``manage.py migrate``
and ``/readyz`` see every table the site uses, the job record's included.
"""

from datalayer.jobs import Job

from .dynamo.cache import CacheEntry

__all__ = ["CacheEntry", "Job"]
