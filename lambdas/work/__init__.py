"""The work function of each job kind (:data:`REGISTRY`); see :mod:`.base` for the contract.

Export is built; avatar and import are registered but fail at once with "not available
yet", so a job of theirs never stays queued.
"""

from datalayer.jobs import JobKind

from . import export
from .base import JobError, Progress, WorkFunction, not_available

REGISTRY: dict[str, WorkFunction] = {
    JobKind.EXPORT: export.run,
    JobKind.AVATAR: not_available,
    JobKind.IMPORT: not_available,
}

__all__ = ["REGISTRY", "JobError", "Progress", "WorkFunction"]
