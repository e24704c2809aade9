"""``manage.py clearsessions``: Django's command, with DynamoDB unreachable said in one line.

Django's runs the session engine's ``clear_expired`` (``accounts.session_store``:
a Scan of the sessions table); accounts comes first in ``INSTALLED_APPS``, so this
one runs.
"""

from typing import Any

from django.contrib.sessions.management.commands import clearsessions

from nebula.management.dynamodb import unreachable_as_command_error


class Command(clearsessions.Command):
    help = (
        "Delete expired sessions from the DynamoDB sessions table (DynamoDB's TTL does too) "
        "and their entries in the users' session lists."
    )

    def handle(self, **options: Any) -> None:
        with unreachable_as_command_error():
            super().handle(**options)
