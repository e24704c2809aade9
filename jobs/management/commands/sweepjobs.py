"""``manage.py sweepjobs``: fail every queued or running job past its deadline, now.

The scheduled sweep function does the same every few minutes; this is for operators
(after an outage, or where the schedule is not deployed). Safe to run at any time. A
run that failed any job writes one audit entry ("job_sweep.run", how many) as the operator.
"""

from typing import Any

from django.core.management.base import BaseCommand

from datalayer.jobs import job_sweep
from nebula.audit import SOURCE_COMMAND, audit_record, operator_id
from nebula.management.dynamodb import unreachable_as_command_error


class Command(BaseCommand):
    help = "Fail every queued or running job past its deadline; print how many."

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            swept = job_sweep()
            if swept:
                # One entry per run: the jobs' own pages say why each one failed.
                operator = operator_id()
                audit_record(
                    actor_id=operator,
                    actor_label=operator,
                    action="job_sweep.run",
                    entity_type="job_sweep",
                    entity_id="past-deadline",
                    entity_label="queued and running jobs past their deadline",
                    before={},
                    after={"failed": swept},
                    source=SOURCE_COMMAND,
                )
        self.stdout.write(f"Failed {swept} job{'s' if swept != 1 else ''} past their deadline.")
