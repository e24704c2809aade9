"""``manage.py createsuperuser``: Django's command, on the DynamoDB user store.

Same options, prompts, messages and exit statuses as ``django.contrib.auth``'s
(accounts comes first in ``INSTALLED_APPS``, so this one runs). The email address
is the login. Interactively it asks for the address and the password twice; with
``--noinput`` the address comes from ``--email`` or ``DJANGO_SUPERUSER_EMAIL`` and
the password from ``DJANGO_SUPERUSER_PASSWORD``. The user is made with
``accounts.services.user_create``: staff, superuser, address verified (an
operator vouches for it). Two deliberate differences, because a superuser's
password guards every account: the password validators are never bypassed (no
"create user anyway?" question; ``--noinput`` checks them too), and ``--noinput``
needs a password instead of making an account nobody can sign in to.
"""

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.management.validation import email_problem, password_problems
from nebula.audit import operator_id
from nebula.management.dynamodb import unreachable_as_command_error


class NotRunningInTTYError(Exception):
    """Prompts need a terminal."""


class Command(BaseCommand):
    help = (
        "Create a superuser (staff, superuser, email verified) in the DynamoDB user store. "
        "With --noinput: the address from --email or DJANGO_SUPERUSER_EMAIL, the password "
        "from DJANGO_SUPERUSER_PASSWORD."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--email", help="Specifies the login (email address) for the superuser."
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help=(
                "Tells Django to NOT prompt the user for input of any kind. The address comes "
                "from --email or DJANGO_SUPERUSER_EMAIL, the password from "
                "DJANGO_SUPERUSER_PASSWORD; both are required."
            ),
        )

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.stdin = options.get("stdin", sys.stdin)  # Django's hook for tests, kept
        return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            self._create(options)

    def _create(self, options: dict[str, Any]) -> None:
        try:
            if options["interactive"]:
                if hasattr(self.stdin, "isatty") and not self.stdin.isatty():
                    raise NotRunningInTTYError
                email = self._ask_email(options["email"])
                password = self._ask_password(email)
            else:
                email, password = self._from_environment(options["email"])
            try:
                user = services.user_create(
                    email=email.strip(),
                    password=password,
                    is_staff=True,
                    is_superuser=True,
                    email_verified=True,
                )
            except services.EmailTakenError as exc:
                raise CommandError("Error: That email address is already taken.") from exc
            services.operator_audit(
                operator=operator_id(),
                action="user.create",
                user=user,
                before={},
                after={"email": user.email, "is_staff": True, "is_superuser": True},
            )
            if options["verbosity"] >= 1:
                self.stdout.write("Superuser created successfully.")
        except (KeyboardInterrupt, EOFError):
            self.stderr.write("\nOperation cancelled.")
            sys.exit(1)
        except NotRunningInTTYError:
            self.stdout.write(
                "Superuser creation skipped due to not running in a TTY. "
                "You can run `manage.py createsuperuser` in your project "
                "to create one manually."
            )

    def _ask_email(self, email: str | None) -> str:
        if email == "":
            raise CommandError("Email address cannot be blank.")
        if email is not None:
            problem = email_problem(email)
            if problem is None:
                return email
            self.stderr.write(problem)
        while True:
            email = input("Email address: ")
            problem = email_problem(email)
            if problem is None:
                return email
            self.stderr.write(problem)

    def _ask_password(self, email: str) -> str:
        while True:
            password = getpass.getpass()
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("Error: Your passwords didn't match.")
                continue
            if not password.strip():
                self.stderr.write("Error: Blank passwords aren't allowed.")
                continue
            problems = password_problems(password, email=email)
            if not problems:
                return password
            self.stderr.write("\n".join(problems))

    def _from_environment(self, email: str | None) -> tuple[str, str]:
        email = email if email is not None else os.environ.get("DJANGO_SUPERUSER_EMAIL")
        if email is None:
            raise CommandError("You must use --email with --noinput.")
        problem = email_problem(email)
        if problem:
            raise CommandError(problem)
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if not password.strip():
            raise CommandError("You must set DJANGO_SUPERUSER_PASSWORD with --noinput.")
        problems = password_problems(password, email=email)
        if problems:
            raise CommandError(" ".join(problems))
        return email, password
