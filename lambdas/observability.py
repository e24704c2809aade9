"""The Powertools logger (JSON lines) and metrics (EMF, namespace ``Nebula``) of every function.

One instance each, shared by the handlers (Powertools keeps one metric set per process
anyway). The service name, a dimension of every metric, comes from
``POWERTOOLS_SERVICE_NAME`` (set per function in the template), else ``nebula-jobs``.
"""

from aws_lambda_powertools import Logger, Metrics

from . import settings

NAMESPACE = "Nebula"

logger = Logger(service=settings.service_name())
metrics = Metrics(namespace=NAMESPACE, service=settings.service_name())
