from django.contrib.auth import hashers


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    """Argon2id with OWASP's parameters: Nebula's costs (m=19 MiB, t=2, p=1)."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
