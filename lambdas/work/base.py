"""What every work function shares: its signature and the error that fails a job with a reason.

A work function gets the job (already running) and a ``progress(percent, message)``
callable; it returns where its result lies in media storage (or None), or that and a
short message for the job's page (``(key, "12 created, 2 skipped.")``; else "Done."). It raises
:class:`JobError` with a message for people when the job cannot be done; any other
exception fails the job with a generic reason (the worker logs the detail).
"""

from collections.abc import Callable

from datalayer.jobs import Job

Progress = Callable[[int, str], None]
WorkFunction = Callable[[Job, Progress], str | tuple[str | None, str] | None]


class JobError(Exception):
    """The job cannot be done; the message is shown to the person who started it."""


def not_available(job: Job, progress: Progress) -> str | None:
    """Fail a kind whose work is not built yet, clearly, instead of leaving it queued."""
    raise JobError("This kind of job is not available yet.")
