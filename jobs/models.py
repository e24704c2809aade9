"""Tables of the jobs path (imported here so Django registers them at startup).

The job record is the data layer's (registered by ``nebula.models``). The idempotency
table belongs to the submit function; it is imported here, and only here, so that
``manage.py migrate`` creates it with the site's tables.
"""

from lambdas.tables import IdempotencyRecord

__all__ = ["IdempotencyRecord"]
