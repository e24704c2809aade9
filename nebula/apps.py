"""The project's own app: shared plumbing, the ``migrate`` command, error pages."""

from django.apps import AppConfig


class NebulaConfig(AppConfig):
    name = "nebula"
    verbose_name = "Nebula"

    def ready(self) -> None:
        from django.conf import settings

        from .dynamo import models

        models.configure(
            prefix=settings.NEBULA_TABLE_PREFIX,
            region=settings.AWS_REGION,
            connect_timeout=settings.NEBULA_DYNAMODB_CONNECT_TIMEOUT,
            read_timeout=settings.NEBULA_DYNAMODB_READ_TIMEOUT,
            max_attempts=settings.NEBULA_DYNAMODB_MAX_ATTEMPTS,
        )
