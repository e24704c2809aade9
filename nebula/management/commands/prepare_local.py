"""``manage.py prepare_local``: what ``make run`` does before serving, in one process.

Creates or updates the tables (``migrate``), then sends
``nebula.signals.prepare_local`` so that each app makes what it needs locally
(accounts: the local admin); nebula names no app. One process instead of several
saves a Django start-up on every ``make run``. Local settings only.
"""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from nebula.signals import prepare_local


class Command(BaseCommand):
    help = "Create/update the tables, then let each app prepare local mode (local mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "NEBULA_LOCAL_MODE", False):
            raise CommandError("prepare_local only runs with local settings")
        call_command("migrate", verbosity=0)
        prepare_local.send(sender=self.__class__, stdout=self.stdout, stderr=self.stderr)
