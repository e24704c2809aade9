"""``manage.py sweepjobs``: fail every queued or running job past its deadline, now.

The scheduled sweep function does the same every few minutes; this is for operators
(after an outage, or where the schedule is not deployed). Safe to run at any time.
"""

from typing import Any

from django.core.management.base import BaseCommand

from datalayer.jobs import job_sweep
from nebula.management.dynamodb import unreachable_as_command_error


class Command(BaseCommand):
    help = "Fail every queued or running job past its deadline; print how many."

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            swept = job_sweep()
        self.stdout.write(f"Failed {swept} job{'s' if swept != 1 else ''} past their deadline.")
