"""What every operator's command does when DynamoDB cannot be reached."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from datalayer.errors import is_unavailable


@contextmanager
def unreachable_as_command_error() -> Iterator[None]:
    """Turn "DynamoDB is unavailable" inside the block into one line and exit status 1.

    Other errors pass unchanged: they are bugs, and their traceback helps.
    """
    try:
        yield
    except CommandError:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            cause = " ".join(str(exc).split())
            raise CommandError(f"DynamoDB is unreachable: {cause}") from exc
        raise
