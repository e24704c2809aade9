"""Settings for the test suite: local mode on its own tables, quiet and fast."""

from .local import *  # noqa: F403
from .local import env, logging_config

DEBUG = False
NEBULA_TABLE_PREFIX = env.str("NEBULA_TABLE_PREFIX", default="nebula-test-")
LOGGING = logging_config("json", "INFO")
