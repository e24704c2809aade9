"""``manage.py migrate``: create or update every DynamoDB table, idempotently.

It subclasses Django's own ``migrate`` so that the command keeps its place in
Django's machinery (system checks, ``call_command``), but there are no SQL
migrations: the tables are declared by the PynamoDB models themselves.

It takes Django's own options where they mean something here (``--noinput``,
which deploy scripts pass, ``--check``, ``--plan``, ``-v``, ``--skip-checks``) and
refuses the SQL-only ones (app labels, ``--fake``, ``--database``...) in one line.
"""

import argparse
from typing import Any

from django.core.management import CommandError
from django.core.management.commands import migrate

from datalayer.errors import is_unavailable
from datalayer.tables import ensure_all_tables

# Django's migrate arguments and options that only mean something for SQL migrations.
_SQL_ARGUMENTS = ("app_label", "migration_name")
_SQL_FLAGS = ("--fake", "--fake-initial", "--run-syncdb", "--prune")


class Command(migrate.Command):
    help = (
        "Create or update the DynamoDB tables of every model (GSIs, TTL, on-demand billing). "
        "Django's SQL-only arguments (app labels, --fake, --database...) are refused."
    )
    requires_system_checks = "__all__"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Accepted for scripts written for Django's migrate: this one never asks.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit non-zero if any table is missing or out of date.",
        )
        parser.add_argument(
            "--plan",
            action="store_true",
            help="Change nothing; show what would be done.",
        )
        # Django's SQL-only options parse, so that they are refused in one clear line
        # rather than with argparse's usage text.
        for name in _SQL_ARGUMENTS:
            parser.add_argument(name, nargs="?", help=argparse.SUPPRESS)
        for flag in _SQL_FLAGS:
            parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--database", help=argparse.SUPPRESS)

    def get_check_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        # Django's migrate checks its SQL database; there is none.
        return {}

    def handle(self, *args: Any, **options: Any) -> None:
        refused = [
            f"{name.replace('_', ' ')} {options[name]!r}"
            for name in _SQL_ARGUMENTS
            if options[name] is not None
        ]
        refused += [flag for flag in _SQL_FLAGS if options[flag[2:].replace("-", "_")]]
        if options["database"] is not None:
            refused.append("--database")
        if refused:
            raise CommandError(
                f"migrate does not take {', '.join(refused)}: there are no SQL migrations here; "
                "it creates or updates the DynamoDB table of every model"
            )
        dry_run = options["check"] or options["plan"]
        try:
            reports = ensure_all_tables(dry_run=dry_run)
        except Exception as exc:
            if is_unavailable(exc):
                raise CommandError(f"DynamoDB is unreachable: {exc}") from exc
            raise
        pending = False
        for report in reports:
            summary = report.summary
            if dry_run and summary != "up to date":
                summary = f"would be {summary}" if report.created else f"would change: {summary}"
                pending = True
            if options["verbosity"] >= 1:
                self.stdout.write(f"{report.table}: {summary}")
                for note in report.notes:
                    self.stdout.write(self.style.WARNING(f"  {note}"))
        if options["check"] and pending:
            raise CommandError("tables are not up to date; run `manage.py migrate`")
