"""Argon2id with small costs, for tests only (the real one takes ~30 ms a hash).

It keeps the production hasher's bound on concurrent hashing (accounts/hashers.py).
"""

from accounts.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
