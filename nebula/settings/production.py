"""Production: the container on ECS behind a load balancer that terminates TLS.

Refuses to start, with one line naming what is missing, unless the environment
provides the secret key, the second-factor encryption key, the allowed hosts and
the AWS names (see docs/configuration.md).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

REQUIRED = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "NEBULA_TABLE_PREFIX",
    "AWS_REGION",
    "EMAIL_HOST",
    "DEFAULT_FROM_EMAIL",
    "NEBULA_OTP_ENCRYPTION_KEY",
)


class MissingConfiguration(ImproperlyConfigured):
    """The environment lacks a variable production cannot run without."""


_missing = [name for name in REQUIRED if not env.str(name, default="").strip()]
if _missing:
    raise MissingConfiguration(
        "production settings need these environment variables: " + ", ".join(_missing)
    )

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise MissingConfiguration("DJANGO_SECRET_KEY must be at least 50 random characters")
# Rotating: the old key goes here for a while, so signatures, sessions and the
# session table's hashed keys made with it stay valid (docs/accounts.md).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# The key of the admin's second-factor secrets: its own, so that a leaked
# SECRET_KEY alone does not open them (docs/accounts.md, "Second factor").
NEBULA_OTP_ENCRYPTION_KEY = env.str("NEBULA_OTP_ENCRYPTION_KEY")
if len(NEBULA_OTP_ENCRYPTION_KEY) < 32 or len(set(NEBULA_OTP_ENCRYPTION_KEY)) < 5:
    raise MissingConfiguration("NEBULA_OTP_ENCRYPTION_KEY must be at least 32 random characters")
NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = env.list("NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
NEBULA_SITE_URL = env.str("NEBULA_SITE_URL", default=f"https://{ALLOWED_HOSTS[0]}")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# TLS ends at the load balancer, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
NEBULA_TRUSTED_PROXY_COUNT = env.int("NEBULA_TRUSTED_PROXY_COUNT", default=1)

# Mail through SMTP (Amazon SES's SMTP interface); credentials from the environment.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env.str("EMAIL_HOST")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
