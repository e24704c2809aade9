"""``manage.py migrate``: create or update every DynamoDB table, idempotently.

It subclasses Django's own ``migrate`` so that the command keeps its place in
Django's machinery (system checks, ``call_command``), but there are no SQL
migrations: the tables are declared by the PynamoDB models themselves.
"""

from typing import Any

from django.core.management import CommandError
from django.core.management.commands import migrate

from nebula.dynamo.errors import is_unavailable
from nebula.dynamo.tables import ensure_all_tables


class Command(migrate.Command):
    help = "Create or update the DynamoDB tables of every model (GSIs, TTL, on-demand billing)."
    requires_system_checks = "__all__"

    def add_arguments(self, parser: Any) -> None:
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

    def get_check_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        # Django's migrate checks its SQL database; there is none.
        return {}

    def handle(self, *args: Any, **options: Any) -> None:
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
