"""Settings shared by every environment.

Nothing here is a secret or an insecure default: ``local`` and ``test`` add the
conveniences, ``production`` adds the hardening and refuses to start without its
required variables. docs/configuration.md lists every variable.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = False
ALLOWED_HOSTS: list[str] = []

# contrib.auth and contrib.sessions stay installed for their machinery (forms,
# tokens, logout, clearsessions); their ORM models are never queried. accounts
# comes before contrib.auth: manage.py runs the first app's command of a name, and
# accounts' createsuperuser and changepassword work on the DynamoDB user store.
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "accounts",
    "contact",
    "jobs",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "nebula.apps.NebulaAdminConfig",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "nebula",
]

MIDDLEWARE = [
    "nebula.middleware.RequestLogMiddleware",
    "nebula.middleware.HealthCheckMiddleware",
    "nebula.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nebula.middleware.DynamoDBUnavailableMiddleware",
    "accounts.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.auth.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "nebula.urls"
WSGI_APPLICATION = "nebula.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# No SQL database anywhere: all state lives in DynamoDB (docs/architecture.md).
DATABASES: dict = {}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("NEBULA_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    # Uploads (avatars): files under MEDIA_ROOT unless a media bucket is set (below).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("NEBULA_MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Never served as such: avatars are sent by accounts' own view, for their owner only.
MEDIA_URL = "/media/"
# Hashed names never change content, so browsers may keep them for a year or more.
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "nebula.views.csrf_failure"
NEBULA_CONTENT_SECURITY_POLICY = env.str(
    "NEBULA_CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
)
NEBULA_PERMISSIONS_POLICY = env.str(
    "NEBULA_PERMISSIONS_POLICY", default="camera=(), microphone=(), geolocation=(), payment=()"
)

# --- DynamoDB (nebula/dynamo) --------------------------------------------------
# The endpoint is never a setting: botocore reads AWS_ENDPOINT_URL_DYNAMODB itself,
# so the same code talks to AWS, DynamoDB Local or the moto stand-in.
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="eu-west-1"))
NEBULA_TABLE_PREFIX = env.str("NEBULA_TABLE_PREFIX", default="nebula-local-")
# A web request must never wait long on DynamoDB: 0.5 s to connect, 1 s to read,
# two attempts in all (botocore waits at most 25 ms between them), and no further
# call once one failed: a hung DynamoDB costs a request ~2 s, then the 503 page
# (docs/architecture.md, "Timeouts and outages").
NEBULA_DYNAMODB_CONNECT_TIMEOUT = env.float("NEBULA_DYNAMODB_CONNECT_TIMEOUT", default=0.5)
NEBULA_DYNAMODB_READ_TIMEOUT = env.float("NEBULA_DYNAMODB_READ_TIMEOUT", default=1.0)
NEBULA_DYNAMODB_MAX_ATTEMPTS = env.int("NEBULA_DYNAMODB_MAX_ATTEMPTS", default=2)
CACHES = {
    # Per-process, for what may differ between workers (template fragments...).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # One cache for every process and container: rate-limit counters.
    "shared": {"BACKEND": "nebula.dynamo.cache.DynamoDBCache", "TIMEOUT": 3600},
}
NEBULA_RETRY_AFTER_SECONDS = env.int("NEBULA_RETRY_AFTER_SECONDS", default=5)

# --- Accounts and sessions (accounts/) ----------------------------------------
AUTHENTICATION_BACKENDS = ["accounts.auth.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
# Where the admin's "Change password" leads: a URL name or path, as LOGIN_URL.
NEBULA_PASSWORD_CHANGE_URL = "accounts:password_change"  # noqa: S105 - a URL name
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_AGE = env.int("NEBULA_SESSION_AGE", default=30 * 24 * 3600)
# Without "keep me signed in": a browser-session cookie, forgotten by the server after this.
NEBULA_BROWSER_SESSION_AGE = env.int("NEBULA_BROWSER_SESSION_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF token from its cookie: every form carries it in a hidden
# field, and job.js only GETs. So that cookie is HttpOnly too
# (tests/nebula/test_production_server.py checks every cookie's attributes).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Messages ride in a signed cookie: showing one costs no DynamoDB write.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
# Argon2id with OWASP's parameters (19 MiB, not Django's 100 MiB); the other
# hashers only verify old hashes, which a good login upgrades (accounts/hashers.py).
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Hashes running at once per process (each holds 19 MiB); more wait their turn.
NEBULA_PASSWORD_HASH_CONCURRENCY = env.int("NEBULA_PASSWORD_HASH_CONCURRENCY", default=2)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "display_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("NEBULA_PASSWORD_RESET_TIMEOUT", default=3600)
NEBULA_EMAIL_LINK_MAX_AGE = env.int("NEBULA_EMAIL_LINK_MAX_AGE", default=3 * 24 * 3600)

# The admin's second factor (accounts/otp.py). The secrets are encrypted under a key
# derived from NEBULA_OTP_ENCRYPTION_KEY (required in production); unset, from
# SECRET_KEY. Old keys stay in the fallbacks until every secret was re-encrypted.
NEBULA_OTP_ENCRYPTION_KEY = env.str("NEBULA_OTP_ENCRYPTION_KEY", default="")
NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = env.list("NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS", default=[])
# The name authenticator apps show next to the account.
NEBULA_OTP_ISSUER = env.str("NEBULA_OTP_ISSUER", default="Nebula")
# Where the admin sends staff whose session has not passed the second factor.
NEBULA_ADMIN_SECOND_FACTOR_URL = "accounts:second_factor_verify"

# Rate limits (django-ratelimit), counted in the shared DynamoDB cache.
RATELIMIT_USE_CACHE = "shared"
RATELIMIT_VIEW = "nebula.views.rate_limited"
RATELIMIT_IP_META_KEY = "nebula.http.client_ip"
# django_ratelimit is deliberately not an installed app: its only job there is a
# system check that warns about every cache backend it has not heard of, ours
# included. Ours does atomic add/incr shared by every process
# (tests/nebula/test_cache.py proves it); the decorator and middleware need no app.
NEBULA_RATES = {
    "login_ip": env.str("NEBULA_RATE_LOGIN_IP", default="30/5m"),
    # Failed logins (not attempts): per account from browsers that never signed
    # in to it, and per trusted device (accounts/devices.py) for those that did.
    "login_account": env.str("NEBULA_RATE_LOGIN_ACCOUNT", default="10/15m"),
    "login_device": env.str("NEBULA_RATE_LOGIN_DEVICE", default="10/15m"),
    "signup_ip": env.str("NEBULA_RATE_SIGNUP_IP", default="10/h"),
    "password_reset_ip": env.str("NEBULA_RATE_PASSWORD_RESET_IP", default="10/h"),
    "password_reset_account": env.str("NEBULA_RATE_PASSWORD_RESET_ACCOUNT", default="3/h"),
    "verify_resend_user": env.str("NEBULA_RATE_VERIFY_RESEND_USER", default="5/h"),
    "email_change_user": env.str("NEBULA_RATE_EMAIL_CHANGE_USER", default="5/h"),
    # Profile picture uploads (accounts/views.py), refused ones included.
    "avatar_upload_user": env.str("NEBULA_RATE_AVATAR_UPLOAD_USER", default="20/h"),
    "password_check_user": env.str("NEBULA_RATE_PASSWORD_CHECK_USER", default="10/h"),
    # Wrong second-factor codes (TOTP or recovery) per staff member.
    "second_factor_user": env.str("NEBULA_RATE_SECOND_FACTOR_USER", default="5/15m"),
    # The contact form (contact/ratelimits.py): every POST counts.
    "contact_ip": env.str("NEBULA_RATE_CONTACT_IP", default="10/h"),
    "contact_email": env.str("NEBULA_RATE_CONTACT_EMAIL", default="5/h"),
    # Starting and retrying jobs (jobs/views.py), per user.
    "job_start_user": env.str("NEBULA_RATE_JOB_START_USER", default="30/h"),
}
# How long a browser that signed in stays a trusted device of the account.
NEBULA_DEVICE_COOKIE_AGE = env.int("NEBULA_DEVICE_COOKIE_AGE", default=365 * 24 * 3600)
# How many proxies (the load balancer) append to X-Forwarded-For in front of us.
NEBULA_TRUSTED_PROXY_COUNT = env.int("NEBULA_TRUSTED_PROXY_COUNT", default=0)

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Nebula <nebula@localhost>")
NEBULA_MAIL_IN_BACKGROUND = env.bool("NEBULA_MAIL_IN_BACKGROUND", default=True)
# Staff addresses that hear of each contact message (docs/contact.md); empty: none
# are mailed, and each message shows that failure in the admin.
NEBULA_CONTACT_RECIPIENTS = env.list("NEBULA_CONTACT_RECIPIENTS", default=[])
# Where links in mails point ("https://nebula.example.com"); empty: the request's host.
NEBULA_SITE_URL = env.str("NEBULA_SITE_URL", default="")

# --- The jobs API (jobs/api.py) ------------------------------------------------
# The API Gateway stage URL ("https://abc123.execute-api.eu-west-1.amazonaws.com/v1");
# empty: no job can start (each gets "could not start"). Requests are SigV4-signed
# with the default credential chain (the ECS task role) for AWS_REGION.
NEBULA_JOBS_API_URL = env.str("NEBULA_JOBS_API_URL", default="")
NEBULA_JOBS_API_CONNECT_TIMEOUT = env.float("NEBULA_JOBS_API_CONNECT_TIMEOUT", default=1.0)
NEBULA_JOBS_API_READ_TIMEOUT = env.float("NEBULA_JOBS_API_READ_TIMEOUT", default=5.0)
# The private bucket job results lie in (jobs/media.py links to them); empty: the
# job's page says its result cannot be downloaded here.
NEBULA_MEDIA_BUCKET = env.str("NEBULA_MEDIA_BUCKET", default="")


def media_storage(bucket: str, region: str) -> dict:
    """Return the ``STORAGES["default"]`` entry for uploads in the private bucket ``bucket``.

    django-storages' S3 backend: private objects (no ACL, presigned URLs), names kept
    as given (keys are chosen by the services), botocore's own endpoint resolution
    (``AWS_ENDPOINT_URL_S3`` on the stand-in). A web request waits on S3 with short
    timeouts, like DynamoDB's (docs/architecture.md, "Timeouts and outages").
    """
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "region_name": region,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": True,
            "client_config": Config(
                signature_version="s3v4",
                connect_timeout=1,
                read_timeout=3,
                retries={"total_max_attempts": 2},
            ),
        },
    }


# With a media bucket, uploads go to it (production, make run, the tests that set it):
# the avatar worker reads them from there. Without one they stay on local disk, and
# avatars cannot be made (the profile page says so): see docs/jobs.md, "Avatar".
if NEBULA_MEDIA_BUCKET:
    STORAGES["default"] = media_storage(NEBULA_MEDIA_BUCKET, AWS_REGION)

# --- Logging -----------------------------------------------------------------------
NEBULA_LOG_FORMAT = env.str("NEBULA_LOG_FORMAT", default="json")
NEBULA_LOG_LEVEL = env.str("NEBULA_LOG_LEVEL", default="INFO")


def logging_config(log_format: str, level: str) -> dict:
    """Return the ``LOGGING`` dict: one line per record on stdout, JSON or text."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "nebula.logging.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "nebula.logging.JSONFormatter"},
            "text": {"()": "nebula.logging.TextFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
                "filters": ["request"],
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # The access log line already records every request; Django's own
            # request logger would repeat 4xx/5xx lines without the request id.
            "django.request": {"level": "ERROR"},
            # runserver's own lines carry the raw path, tokens in links included;
            # the access log above already records every request by its route.
            "django.server": {"level": "CRITICAL"},
            "botocore": {"level": "WARNING"},
            "pynamodb": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(NEBULA_LOG_FORMAT, NEBULA_LOG_LEVEL)
