"""Shim: imports move to datalayer at merge (this module *is* ``datalayer.models``)."""

import sys

from datalayer import models

sys.modules[__name__] = models
