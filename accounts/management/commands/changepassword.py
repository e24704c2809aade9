"""``manage.py changepassword``: Django's command, on the DynamoDB user store.

Same prompts, messages, three tries and exit statuses as ``django.contrib.auth``'s
(accounts comes first in ``INSTALLED_APPS``, so this one runs), with the password
validators. The account is named by its email address; Django's default (the
operating-system user name) names no account here, so the address is required.
Like a password change on the site, it ends every session of the account.
"""

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services
from accounts.management.validation import password_problems
from nebula.audit import operator_id
from nebula.management.dynamodb import unreachable_as_command_error

MAX_TRIES = 3


class Command(BaseCommand):
    help = "Change a user's password in the DynamoDB user store; every session of theirs ends."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", nargs="?", help="Email address of the account.")

    def _get_pass(self, prompt: str = "Password: ") -> str:
        password = getpass.getpass(prompt=prompt)
        if not password:
            raise CommandError("aborted")
        return password

    def handle(self, *args: Any, **options: Any) -> str:
        with unreachable_as_command_error():
            return self._change(options)

    def _change(self, options: dict[str, Any]) -> str:
        email = options["email"]
        if not email:
            raise CommandError("give the account's email address: manage.py changepassword EMAIL")
        user = selectors.user_get_by_email(email=email)
        if user is None:
            raise CommandError(f"user '{email}' does not exist")
        self.stdout.write(f"Changing password for user '{user.email}'")

        for _attempt in range(MAX_TRIES):
            password = self._get_pass()
            if password != self._get_pass("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            problems = password_problems(password, email=user.email)
            if not problems:
                break
            self.stderr.write("\n".join(problems))
        else:
            raise CommandError(
                f"Aborting password change for user '{user.email}' after {MAX_TRIES} attempts"
            )

        try:
            services.user_set_password(user=user, password=password)
        except services.UserGoneError as exc:
            raise CommandError(f"user '{email}' was deleted meanwhile") from exc
        ended = services.session_end_all(user_id=user.id)
        services.operator_audit(
            operator=operator_id(),
            action="user.set_password",
            user=user,
            before={},
            after={"password": "changed", "sessions_ended": ended},
        )
        self.stdout.write(f"Signed out of {ended} session{'s' if ended != 1 else ''}.")
        return f"Password changed successfully for user '{user.email}'"
