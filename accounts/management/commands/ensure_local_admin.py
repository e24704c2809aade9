"""``manage.py ensure_local_admin``: make sure local mode has an admin to log in with.

Run by ``make run``. Creates ``NEBULA_LOCAL_ADMIN_EMAIL`` (admin@localhost) with
``NEBULA_LOCAL_ADMIN_PASSWORD`` or a generated password, printed once. Refuses
outside local settings: production admins are made deliberately.
"""

import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services


class Command(BaseCommand):
    help = "Create the local admin account if it does not exist (local mode only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Give the existing local admin a new password (printed once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "NEBULA_LOCAL_MODE", False):
            raise CommandError("ensure_local_admin only runs with local settings")
        email = os.environ.get("NEBULA_LOCAL_ADMIN_EMAIL", "admin@localhost")
        chosen = os.environ.get("NEBULA_LOCAL_ADMIN_PASSWORD", "")
        password = chosen or secrets.token_urlsafe(12)
        user = selectors.user_get_by_email(email=email)
        if user is None:
            services.user_create(
                email=email,
                password=password,
                display_name="Local admin",
                is_staff=True,
                is_superuser=True,
                email_verified=True,
            )
            self._announce(email, None if chosen else password, "created")
        elif options["reset_password"]:
            services.user_set_password(user=user, password=password)
            self._announce(email, None if chosen else password, "given a new password")
        else:
            self.stdout.write(
                f"Local admin: {email} (password shown when it was made; "
                "`manage.py ensure_local_admin --reset-password` makes a new one)"
            )

    def _announce(self, email: str, generated: str | None, what: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"Local admin {email} {what}."))
        if generated:
            self.stdout.write(f"  Log in at /accounts/login/ with password: {generated}")
            self.stdout.write("  (shown this once; set NEBULA_LOCAL_ADMIN_PASSWORD to choose one)")
        else:
            self.stdout.write("  Password: the one in NEBULA_LOCAL_ADMIN_PASSWORD")
        self.stdout.write(
            "  The admin then asks for a second factor: have an authenticator app ready."
        )
