"""The Lambda side's own table: Powertools' idempotency records (submit's Idempotency-Key).

Declared as a data-layer model so that ``manage.py migrate`` (and the tests' table
setup) create it with the other tables: ``<prefix>idempotency``, hash key ``id``, TTL
on ``expiration``. Powertools reads and writes it with its own client; nothing calls
this model. The site imports this module only to register the table (``jobs.models``).
"""

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from datalayer.models import NebulaModel

from .settings import IDEMPOTENCY_BASE_NAME


class IdempotencyRecord(NebulaModel):
    """One idempotency key's record, as Powertools' DynamoDBPersistenceLayer keeps it."""

    class Meta:
        table_name = IDEMPOTENCY_BASE_NAME

    id = UnicodeAttribute(hash_key=True)
    # Powertools writes epoch seconds here; DynamoDB removes the record some time after.
    expiration = TTLAttribute(null=True)
