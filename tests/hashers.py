"""Argon2id with small costs, for tests only (the real one takes ~30 ms a hash).

It keeps the production hasher's bound on concurrent hashing (accounts/hashers.py).
"""

from typing import ClassVar

from accounts.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1


class CountingArgon2PasswordHasher(FastArgon2PasswordHasher):
    """Count every hash computed (made or checked), to compare what two paths cost."""

    computed: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str) -> str:
        self.computed.append("encode")
        return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        self.computed.append("verify")
        return super().verify(password, encoded)
