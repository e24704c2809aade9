"""Signals nebula sends and apps connect to, so that nebula never calls an app by name."""

from django.dispatch import Signal

# Sent by ``manage.py prepare_local`` (local settings only, run by ``make run``) once
# every table exists, with ``stdout`` and ``stderr``: the command's output streams.
# A receiver makes what its app needs to be usable locally (accounts: the local admin,
# with how to sign in) and reports on those streams; an exception stops ``make run``.
prepare_local = Signal()
