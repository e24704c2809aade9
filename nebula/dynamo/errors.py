"""Shim: imports move to datalayer at merge (this module *is* ``datalayer.errors``)."""

import sys

from datalayer import errors

sys.modules[__name__] = errors
