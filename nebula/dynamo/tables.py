"""Shim: imports move to datalayer at merge (this module *is* ``datalayer.tables``)."""

import sys

from datalayer import tables

sys.modules[__name__] = tables
