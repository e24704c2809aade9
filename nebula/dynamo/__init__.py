"""Django-only DynamoDB plumbing (the cache backend); the rest lives in ``datalayer``."""
