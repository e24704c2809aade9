"""The work function of each job kind (:data:`REGISTRY`); see :mod:`.base` for the contract.

A kind whose work is not built yet is registered with ``not_available``: it fails at
once with "not available yet", so a job of its never stays queued.
"""

from datalayer.jobs import JobKind

from . import export, import_users
from .base import JobError, Progress, WorkFunction, not_available

REGISTRY: dict[str, WorkFunction] = {
    JobKind.EXPORT: export.run,
    JobKind.AVATAR: not_available,
    JobKind.IMPORT: import_users.run,
}

__all__ = ["REGISTRY", "JobError", "Progress", "WorkFunction"]
