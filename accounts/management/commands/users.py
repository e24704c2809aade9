"""``manage.py users``: find, list, deactivate and reactivate accounts; end sessions.

For operators on a shell (an ECS one-off task, a laptop with the role): they
may act on any account, staff and superusers included, and every change is
logged and audited by the service as done by ``operator:<login name>``
(``nebula.audit.operator_id``), source "command". Users are named by
email address (any case) or by id. Each action is safe to run twice: asking for
the state an account is already in changes nothing and says so.

``list`` pages through the users table with a Scan (``selectors.user_list``):
memory stays at one page whatever the table's size, and ``--limit`` with
``--cursor`` resumes where a previous run stopped.
"""

import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services
from accounts.models import User, is_user_id
from nebula.audit import operator_id
from nebula.management.dynamodb import unreachable_as_command_error

CONFIRMATION = "yes"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _flags(user: User) -> str:
    flags = [
        name
        for name, on in (
            ("inactive", not user.is_active),
            ("staff", user.is_staff),
            ("superuser", user.is_superuser),
            ("unverified", not user.email_verified),
        )
        if on
    ]
    return ",".join(flags) or "-"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "never"


class Command(BaseCommand):
    help = (
        "Find, list, deactivate or reactivate user accounts, or end their sessions. "
        "A user is named by email address or id. Run `manage.py users ACTION --help` for each."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        find = actions.add_parser("find", help="Show one account and its number of live sessions.")
        find.add_argument("user", help="Email address or user id.")

        listing = actions.add_parser(
            "list",
            help="List accounts, one per line: id, email, flags (a Scan, page by page).",
        )
        listing.add_argument("--staff", action="store_true", help="Only staff accounts.")
        listing.add_argument("--inactive", action="store_true", help="Only deactivated accounts.")
        listing.add_argument(
            "--limit",
            type=int,
            help="Stop after this many and print the --cursor that continues from there.",
        )
        listing.add_argument("--cursor", help="Continue where a run with --limit stopped.")

        deactivate = actions.add_parser(
            "deactivate", help="Deactivate an account: it cannot sign in; its sessions end now."
        )
        deactivate.add_argument("user", help="Email address or user id.")
        reactivate = actions.add_parser(
            "reactivate", help="Reactivate a deactivated account (its password is unchanged)."
        )
        reactivate.add_argument("user", help="Email address or user id.")

        end = actions.add_parser(
            "endsessions",
            help="Sign one account out everywhere, or (--all) everyone, after asking.",
        )
        end.add_argument("user", nargs="?", help="Email address or user id.")
        end.add_argument(
            "--all", action="store_true", help="End every session there is, anonymous ones too."
        )
        end.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation with --all (scripts, ECS tasks).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            getattr(self, f"_{options['action']}")(options)

    # --- the actions -------------------------------------------------------------------

    def _find(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        sessions = len(selectors.session_list_for_user(user_id=user.id))
        password = "set" if user.has_usable_password() else "none (must use a password reset)"
        for label, value in (
            ("id", user.id),
            ("email", user.email),
            ("display name", user.display_name or "-"),
            ("active", "yes" if user.is_active else "no"),
            ("staff", "yes" if user.is_staff else "no"),
            ("superuser", "yes" if user.is_superuser else "no"),
            ("email verified", "yes" if user.email_verified else "no"),
            ("password", password),
            ("joined", _when(user.date_joined)),
            ("last login", _when(user.last_login)),
            ("live sessions", str(sessions)),
        ):
            self.stdout.write(f"{label + ':':<16}{value}")

    def _list(self, options: dict[str, Any]) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        cursor = options["cursor"]
        shown = 0
        while True:
            page_size = selectors.USER_SCAN_PAGE_SIZE
            if limit is not None:
                page_size = min(page_size, limit - shown)
            try:
                page = selectors.user_list(
                    limit=page_size,
                    cursor=cursor,
                    staff_only=options["staff"],
                    inactive_only=options["inactive"],
                )
            except selectors.InvalidCursorError as exc:
                raise CommandError(
                    "--cursor is not one that `manage.py users list` printed"
                ) from exc
            for user in page.users:
                self.stdout.write(f"{user.id}  {user.email}  {_flags(user)}")
            shown += len(page.users)
            cursor = page.cursor
            if cursor is None or (limit is not None and shown >= limit):
                break
        self.stdout.write(f"({_plural(shown, 'user')})")
        if cursor is not None:
            more = ["manage.py users list", f"--limit {limit}", f"--cursor {cursor}"]
            more[1:1] = [flag for flag in ("--staff", "--inactive") if options[flag[2:]]]
            self.stdout.write(f"There may be more: {' '.join(more)}")

    def _deactivate(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        change = self._set_active(user, active=False)
        ended = _plural(change.sessions_ended, "session")
        if change.changed:
            self.stdout.write(f"Deactivated {user.email}; {ended} ended.")
        else:
            self.stdout.write(f"{user.email} was already inactive; {ended} ended.")

    def _reactivate(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        change = self._set_active(user, active=True)
        if change.changed:
            self.stdout.write(f"Reactivated {user.email}.")
        else:
            self.stdout.write(f"{user.email} was already active.")

    def _endsessions(self, options: dict[str, Any]) -> None:
        if options["all"] and options["user"]:
            raise CommandError("give a user or --all, not both")
        if options["all"]:
            self._end_everyones_sessions(interactive=options["interactive"])
            return
        if not options["user"]:
            raise CommandError("give a user (email address or id), or --all for everyone")
        user = self._user(options["user"])
        ended = services.user_end_sessions(operator=operator_id(), user=user)
        self.stdout.write(f"Ended {_plural(ended, 'session')} of {user.email}.")

    # --- helpers -----------------------------------------------------------------------

    def _user(self, identifier: str) -> User:
        user = selectors.user_find(identifier=identifier)
        if user is None:
            kind = "id" if is_user_id(identifier.strip()) else "email address"
            raise CommandError(f"no user with {kind} '{identifier}'")
        return user

    def _set_active(self, user: User, *, active: bool) -> services.ActiveChange:
        try:
            return services.user_set_active(operator=operator_id(), user=user, active=active)
        except services.UserGoneError as exc:
            raise CommandError(f"user '{user.email}' was deleted meanwhile") from exc

    def _end_everyones_sessions(self, *, interactive: bool) -> None:
        if interactive:
            if not sys.stdin.isatty():
                raise CommandError(
                    "endsessions --all asks for confirmation on a terminal; "
                    "pass --noinput to run it without asking"
                )
            answer = input(
                "This signs out every user, you included, on every device. "
                f"Type '{CONFIRMATION}' to continue, or anything else to cancel: "
            )
            if answer.strip() != CONFIRMATION:
                self.stdout.write("Cancelled: no session was ended.")
                return
        ended = services.session_end_everyone(operator=operator_id())
        self.stdout.write(f"Ended {_plural(ended, 'session')}: everyone is signed out.")
