"""``manage.py prepare_local``: what ``make run`` does before serving, in one process.

Creates or updates the tables (``migrate``), then makes sure the local admin
exists (``ensure_local_admin``). One process instead of two saves a Django
start-up on every ``make run``. Local settings only.
"""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create/update the tables and make sure the local admin exists (local mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "NEBULA_LOCAL_MODE", False):
            raise CommandError("prepare_local only runs with local settings")
        call_command("migrate", verbosity=0)
        call_command("ensure_local_admin", stdout=self.stdout, stderr=self.stderr)
