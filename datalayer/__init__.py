"""DynamoDB plumbing shared by the site and the Lambda code; imports no Django.

- :mod:`datalayer.models`: the base model, the table registry, :func:`configure`;
- :mod:`datalayer.env`: :func:`configure_from_environment` for Lambda code;
- :mod:`datalayer.calls`: per-request (or per-invocation) call counting and fail-fast;
- :mod:`datalayer.errors`: what "DynamoDB is unavailable" means;
- :mod:`datalayer.tables`: create, update and check the registered tables;
- :mod:`datalayer.jobs`: the job record and its state transitions;
- :mod:`datalayer.cursors`: the one opaque, signed page-cursor format.

Django-only parts (the cache backend) stay in ``nebula.dynamo``.
"""

from .env import configure_from_environment

__all__ = ["configure_from_environment"]
