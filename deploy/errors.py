"""The one exception the deploy steps raise: a message an operator can act on."""


class DeployError(Exception):
    """A step failed; the message says which, why, and what still serves."""
