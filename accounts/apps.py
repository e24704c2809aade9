from typing import Any

from django.apps import AppConfig
from django.core.management import call_command


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # contrib.auth stamps last_login with an ORM save; accounts.auth.login
        # stamps it in DynamoDB instead.
        user_logged_in.disconnect(dispatch_uid="update_last_login")

        from nebula.signals import prepare_local

        prepare_local.connect(_ensure_local_admin, dispatch_uid="accounts.ensure_local_admin")


def _ensure_local_admin(sender: object, *, stdout: Any, stderr: Any, **kwargs: Any) -> None:
    """Make sure local mode has an admin to sign in with (``manage.py ensure_local_admin``)."""
    call_command("ensure_local_admin", stdout=stdout, stderr=stderr)
