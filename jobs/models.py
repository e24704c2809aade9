"""Tables of the jobs path that the site declares (Django imports this at startup).

The job record is the data layer's (registered by ``nebula.models``). The submit
function's idempotency table is declared here, so that ``manage.py migrate`` creates it
with the site's tables: Powertools reads and writes it with its own client and needs
no model, and the site needs no Lambda code for it.
"""

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from datalayer.models import NebulaModel


class IdempotencyRecord(NebulaModel):
    """One idempotency key's record, as Powertools' DynamoDBPersistenceLayer keeps it.

    ``<prefix>idempotency``: the name ``lambdas.settings.idempotency_table`` gives the
    submit function (tests/jobs/test_models.py checks they agree).
    """

    class Meta:
        table_name = "idempotency"

    id = UnicodeAttribute(hash_key=True)
    # Powertools writes epoch seconds here; DynamoDB removes the record some time after.
    expiration = TTLAttribute(null=True)
