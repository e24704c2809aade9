"""Local mode: ``make run`` on a laptop, no AWS account, no configuration.

botocore is pointed at the moto stand-in started by ``make run`` (see
``local/``) unless the environment already says otherwise, so every
``manage.py`` command works against the local data too.
"""

import os
import secrets
from pathlib import Path

from .base import *  # noqa: F403
from .base import AWS_REGION, BASE_DIR, STORAGES, env, logging_config, media_storage

LOCAL_STATE_DIR = Path(env.str("NEBULA_LOCAL_STATE_DIR", default=str(BASE_DIR / ".local")))


def _local_secret_key() -> str:
    """Return this checkout's own key, made once, so sessions survive a restart."""
    path = LOCAL_STATE_DIR / "secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _local_secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Serve files straight from static/ and notice edits; no collectstatic needed.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

NEBULA_STANDIN_PORT = env.int("NEBULA_STANDIN_PORT", default=8001)
os.environ.setdefault("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{NEBULA_STANDIN_PORT}")
# The stand-in accepts any credentials; these keep botocore from looking further
# (and from ever finding a real account's keys on the developer's machine).
os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
# The local gateway (local/gateway.py) that make run starts beside the stand-in.
NEBULA_JOBS_API_URL = env.str(
    "NEBULA_JOBS_API_URL",
    default=f"http://127.0.0.1:{env.int('NEBULA_GATEWAY_PORT', default=8002)}/v1",
)
NEBULA_MEDIA_BUCKET = env.str("NEBULA_MEDIA_BUCKET", default="nebula-local-media")
# Uploads (avatars) go to the media bucket on the stand-in, as in production.
if NEBULA_MEDIA_BUCKET:
    STORAGES = {**STORAGES, "default": media_storage(NEBULA_MEDIA_BUCKET, AWS_REGION)}

# Mail is written to files, one per message, for the person running make run.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = LOCAL_STATE_DIR / "mail"
NEBULA_LOCAL_MODE = True
# Contact messages are announced to the local admin (written to mail/ like all mail).
NEBULA_CONTACT_RECIPIENTS = env.list(
    "NEBULA_CONTACT_RECIPIENTS",
    default=[env.str("NEBULA_LOCAL_ADMIN_EMAIL", default="admin@localhost")],
)

NEBULA_LOG_FORMAT = env.str("NEBULA_LOG_FORMAT", default="text")
LOGGING = logging_config(NEBULA_LOG_FORMAT, env.str("NEBULA_LOG_LEVEL", default="INFO"))
