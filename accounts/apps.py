from typing import Any

from django.apps import AppConfig
from django.core.management import call_command


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # contrib.auth stamps last_login with an ORM save; accounts.auth.login
        # stamps it in DynamoDB instead. accounts comes before contrib.auth in
        # INSTALLED_APPS, so this runs before contrib.auth's ready() connects its
        # receiver: holding that receiver's dispatch_uid makes its connect a no-op
        # (Signal.connect ignores a second receiver under the same dispatch_uid).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(_last_login_is_stamped_by_login, dispatch_uid="update_last_login")

        from nebula.signals import prepare_local

        prepare_local.connect(_ensure_local_admin, dispatch_uid="accounts.ensure_local_admin")


def _last_login_is_stamped_by_login(sender: object, **kwargs: Any) -> None:
    """Do nothing: ``accounts.auth.login`` has stamped ``last_login`` already."""


def _ensure_local_admin(sender: object, *, stdout: Any, stderr: Any, **kwargs: Any) -> None:
    """Make sure local mode has an admin to sign in with (``manage.py ensure_local_admin``)."""
    call_command("ensure_local_admin", stdout=stdout, stderr=stderr)
