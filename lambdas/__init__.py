"""The Lambda functions of the jobs path: submit, worker, sweep (docs/jobs.md).

Django-free (import-linter enforces it): these modules import the shared data
layer (``datalayer``), Powertools and boto3, never the site.
"""
