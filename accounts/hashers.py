"""Argon2id with OWASP's parameters, and a bound on how many hashes run at once.

Django's default Argon2 parameters (m=100 MiB, t=2, p=8) make every login,
sign-up and password check hold ~100 MiB for its duration: a few concurrent
logins multiply a worker's memory. OWASP's password-storage guidance gives
m=19 MiB, t=2, p=1 as an equivalent choice. At most
``NEBULA_PASSWORD_HASH_CONCURRENCY`` hashes run at once per process; the others
wait their turn, so a worker's hashing memory is bounded whatever the load
(docs/operations.md gives the measured figure).

Hashes made with other parameters (Django's defaults, PBKDF2) still verify, and
Django's ``check_password`` calls the setter that stores the password again with
these parameters after a good login (``accounts.auth.EmailBackend``).
"""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


@functools.cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's hashing slots for the duration of the block."""
    slots = _slots(settings.NEBULA_PASSWORD_HASH_CONCURRENCY)
    with slots:
        yield


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    """Argon2id, m=19 MiB, t=2, p=1; at most a few hashes at once per process."""

    time_cost = 2
    memory_cost = 19456  # KiB: 19 MiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hashing_slot():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        # Verifying uses the parameters stored in the hash (an old one may need 100 MiB).
        with hashing_slot():
            return super().verify(password, encoded)
