"""``manage.py status``: each table as DynamoDB has it, beside what ``migrate`` would make.

Changes nothing. For every table of a registered model: its state, DynamoDB's
*approximate* item count (``DescribeTable``'s ``ItemCount``, refreshed by
DynamoDB about every six hours: not a live count), its indexes, TTL, point-in-time
recovery, and whether it matches what ``migrate`` would create
(``datalayer.tables.table_state``, the same planning ``migrate`` uses). Exit
status 0 when every table matches, 1 when one differs or is missing (after the
whole report), 1 in one line when DynamoDB is unreachable.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from datalayer.tables import TableState, all_table_states
from nebula.management.dynamodb import unreachable_as_command_error


def _describe(state: TableState) -> list[str]:
    if state.status is None:
        return [f"{state.table}: missing", *(f"  - {d}" for d in state.differences)]
    lines = [
        f"{state.table}: {state.status}",
        f"  items: about {state.item_count} (approximate: DynamoDB refreshes this count "
        "about every six hours)",
        f"  indexes: {', '.join(state.indexes) or 'none'}",
        f"  TTL: {state.ttl}",
        f"  point-in-time recovery: {state.point_in_time_recovery}",
    ]
    if state.matches:
        lines.append("  matches what migrate would create")
    else:
        lines.append("  differs from what migrate would create:")
        lines += [f"    - {difference}" for difference in state.differences]
    lines += [f"  note: {note}" for note in state.notes]
    return lines


class Command(BaseCommand):
    help = (
        "Show each DynamoDB table's state, approximate item count, indexes, TTL and "
        "point-in-time recovery, and whether it matches what migrate would create. "
        "Changes nothing; exit status 1 if a table differs or is missing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with unreachable_as_command_error():
            states = all_table_states()
        for state in states:
            for line in _describe(state):
                self.stdout.write(line)
        differing = [state.table for state in states if not state.matches]
        if differing:
            raise CommandError(
                f"{len(differing)} of {len(states)} tables differ from what migrate would "
                f"create ({', '.join(differing)}); see above"
            )
        self.stdout.write(f"All {len(states)} tables match what migrate would create.")
