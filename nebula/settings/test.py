"""Settings for the test suite: local mode on its own tables, quiet and fast."""

from .local import *  # noqa: F403
from .local import env, logging_config

DEBUG = False
NEBULA_TABLE_PREFIX = env.str("NEBULA_TABLE_PREFIX", default="nebula-test-")
LOGGING = logging_config("json", "INFO")

# Argon2id still, with small costs: hashing is most of a sign-up's time.
PASSWORD_HASHERS = [
    "tests.hashers.FastArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Mail goes out inside the request, so tests can read the outbox at once
# (tests/nebula/test_mail.py covers the background path).
NEBULA_MAIL_IN_BACKGROUND = False
# Generous limits; the rate-limit tests set their own.
NEBULA_RATES = dict.fromkeys(NEBULA_RATES, "1000/m")
# Staff who hear of contact messages (tests/contact).
NEBULA_CONTACT_RECIPIENTS = ["staff@example.com"]
