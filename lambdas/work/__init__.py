"""The work function of each job kind (:data:`REGISTRY`); see :mod:`.base` for the contract.

A kind whose work is not built yet would be registered with ``not_available``: it fails at
once with "not available yet", so a job of its never stays queued. Every kind is built now.
"""

from datalayer.jobs import JobKind

from . import avatar, export, import_users
from .base import JobError, Progress, WorkFunction

REGISTRY: dict[str, WorkFunction] = {
    JobKind.EXPORT: export.run,
    JobKind.AVATAR: avatar.run,
    JobKind.IMPORT: import_users.run,
}

__all__ = ["REGISTRY", "JobError", "Progress", "WorkFunction"]
