"""Shim: imports move to datalayer at merge (this module *is* ``datalayer.calls``)."""

import sys

from datalayer import calls

sys.modules[__name__] = calls
