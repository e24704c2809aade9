"""The project's own app: shared plumbing, the ``migrate`` command, error pages."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NebulaConfig(AppConfig):
    name = "nebula"
    default = True
    verbose_name = "Nebula"

    def ready(self) -> None:
        configure_data_layer()


def configure_data_layer() -> None:
    """Point every model at the tables, region and timeouts the settings name; key the cursors.

    Run when Django is ready; running it again makes every model open a new
    client (reading the endpoint from the environment afresh).
    """
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    from datalayer import cursors, models

    # Page cursors are signed with a key derived from SECRET_KEY (and accepted under
    # each fallback's while SECRET_KEY rotates): nobody without it can make one.
    cursors.configure(
        keys=[
            salted_hmac("nebula.cursors", "", secret=secret, algorithm="sha256").digest()
            for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        ]
    )

    models.configure(
        prefix=settings.NEBULA_TABLE_PREFIX,
        region=settings.AWS_REGION,
        connect_timeout=settings.NEBULA_DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=settings.NEBULA_DYNAMODB_READ_TIMEOUT,
        max_attempts=settings.NEBULA_DYNAMODB_MAX_ATTEMPTS,
    )


class NebulaAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``nebula.admin.NebulaAdminSite`` as ``admin.site``."""

    default = False
    default_site = "nebula.admin.NebulaAdminSite"
