"""The admin index's dashboard: counts read from the counters table, drawn as SVG charts.

Everything shown comes from ONE ``BatchGetItem`` on the counters table
(:mod:`datalayer.counters`): the last 30 days of sign-ups, the last 24 hours of
signed-in sessions started, and each registered count by status. Nothing is
scanned at view time; the counts are kept by the services that make the writes.

"Active sessions" is approximated by the signed-in sessions started in the last
24 hours: a session ends by expiry (TTL) without any write to count, so an exact
live count would need a scan. The chart says so.

Apps add their counts by status with :meth:`nebula.admin.NebulaAdminSite.register_status_chart`
(nebula names no app); the job counts belong to the shared data layer, so they are built in.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from botocore.exceptions import BotoCoreError
from django.utils.safestring import SafeString
from pynamodb.exceptions import PynamoDBException

from datalayer.counters import (
    JOBS,
    SESSIONS,
    SIGNUPS,
    counter_get_many,
    daily_name,
    hourly_name,
    status_name,
)
from datalayer.jobs import JobStatus

from . import charts

DAYS = 30
SESSION_HOURS = 24


@dataclass(frozen=True)
class StatusChart:
    """A count by status to chart: the counter metric and its statuses with their labels."""

    metric: str
    title: str
    statuses: tuple[tuple[str, str], ...]


JOBS_CHART = StatusChart(
    metric=JOBS,
    title="Jobs by status",
    statuses=tuple((status.value, status.value.replace("_", " ")) for status in JobStatus),
)


@dataclass(frozen=True)
class Panel:
    """One chart on the index, and its numbers as text (the chart's text alternative)."""

    chart_id: str
    title: str
    note: str
    svg: SafeString
    rows: list[tuple[str, int]]


@dataclass(frozen=True)
class Dashboard:
    panels: list[Panel]
    error: str | None = None


def _days(today: date) -> list[date]:
    return [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]


def _hours(now: datetime) -> list[datetime]:
    return [now - timedelta(hours=back) for back in range(SESSION_HOURS)]


def dashboard_get(*, status_charts: list[StatusChart], now: datetime | None = None) -> Dashboard:
    """Read every count the dashboard shows in one BatchGetItem and build its panels."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    days = _days(now.date())
    hours = _hours(now)
    charted = [*status_charts, JOBS_CHART]
    names = [daily_name(SIGNUPS, day) for day in days]
    names += [hourly_name(SESSIONS, hour) for hour in hours]
    names += [status_name(c.metric, s) for c in charted for s, _ in c.statuses]
    try:
        values = counter_get_many(names)
    except (PynamoDBException, BotoCoreError):
        return Dashboard(panels=[], error="The dashboard's counts cannot be read right now.")

    signups = [values[daily_name(SIGNUPS, day)] for day in days]
    sign_up_rows = [(f"{day:%Y-%m-%d}", count) for day, count in zip(days, signups, strict=True)]
    panels = [
        Panel(
            chart_id="signups",
            title="Sign-ups per day",
            note=f"Last {DAYS} days (UTC), {sum(signups)} in all.",
            svg=charts.column_chart(
                chart_id="signups",
                title="Sign-ups per day",
                description=(
                    f"Sign-ups on each of the last {DAYS} days, "
                    f"from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}: {sum(signups)} in all."
                ),
                labels=[f"{day:%b %d}" for day in days],
                values=signups,
            ),
            rows=sign_up_rows,
        )
    ]
    sessions = sum(values[hourly_name(SESSIONS, hour)] for hour in hours)
    session_rows = [("Signed-in sessions started in the last 24 hours", sessions)]
    panels.append(
        Panel(
            chart_id="sessions",
            title="Active sessions (approximate)",
            note=(
                "Counted as the signed-in sessions started in the last 24 hours: sessions "
                "end by expiry without a write, so an exact count would need a scan."
            ),
            svg=charts.bar_chart(
                chart_id="sessions",
                title="Active sessions (approximate)",
                description=f"{sessions} signed-in sessions started in the last 24 hours.",
                items=[("last 24 hours", sessions)],
            ),
            rows=session_rows,
        )
    )
    for chart in charted:
        rows = [(label, values[status_name(chart.metric, s)]) for s, label in chart.statuses]
        chart_id = f"status-{chart.metric}"
        panels.append(
            Panel(
                chart_id=chart_id,
                title=chart.title,
                note="Counts kept as items change status.",
                svg=charts.bar_chart(
                    chart_id=chart_id,
                    title=chart.title,
                    description=", ".join(f"{label}: {count}" for label, count in rows) + ".",
                    items=rows,
                ),
                rows=rows,
            )
        )
    return Dashboard(panels=panels)
