"""What every handler does once per cold start: configure the data layer from the environment."""

from datalayer import configure_from_environment
from datalayer.models import is_configured


def ensure_configured() -> None:
    """Configure the data layer from the environment unless this process already did.

    In Lambda the first invocation configures it; a process that configured it its own
    way first (the site's test process, which runs the handlers in-process) keeps that.
    """
    if not is_configured():
        configure_from_environment()
