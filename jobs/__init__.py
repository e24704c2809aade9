"""Background jobs: the site's side of the jobs path (docs/jobs.md).

So far only :mod:`jobs.api`, the one module of the site that calls the jobs API.
"""
