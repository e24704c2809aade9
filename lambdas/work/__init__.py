"""The work function of each job kind (:data:`REGISTRY`); see :mod:`.base` for the contract.

"""

from datalayer.jobs import JobKind

from . import avatar, export, import_users
from .base import JobError, Progress, WorkFunction, not_available

REGISTRY: dict[str, WorkFunction] = {
    JobKind.EXPORT: export.run,
    JobKind.AVATAR: avatar.run,
    JobKind.IMPORT: import_users.run,
}

__all__ = ["REGISTRY", "JobError", "Progress", "WorkFunction"]
