"""The work function of each job kind (:data:`REGISTRY`); see :mod:`.base` for the contract.

Export and avatar are built; import is registered but fails at once with "not available
yet", so a job of its never stays queued.
"""

from datalayer.jobs import JobKind

from . import avatar, export
from .base import JobError, Progress, WorkFunction, not_available

REGISTRY: dict[str, WorkFunction] = {
    JobKind.EXPORT: export.run,
    JobKind.AVATAR: avatar.run,
    JobKind.IMPORT: not_available,
}

__all__ = ["REGISTRY", "JobError", "Progress", "WorkFunction"]
