# Nebula's production image: Gunicorn serving the site under production settings.
#
# Two stages on the same base: the builder makes a virtualenv from the pinned
# requirements and collects the static files; the final stage copies the
# virtualenv, the code and the collected files, and runs as an unprivileged user.
# `make container-test` builds this file unchanged and checks the running
# container (docs/deploy.md, "Container image").
#
# Build: docker build -t nebula .   (Docker 23+ / BuildKit, or podman/buildah)
# A private package index: pass a pip.conf as the build secret `pipconf`
# (`--secret id=pipconf,src=pip.conf`); it is mounted for the install only and
# never stored in a layer.

FROM python:3.13-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv

# Only wheels, no dependency resolution: requirements.txt pins every package
# production needs, and `pip check` fails the build if it stops doing so.
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf \
    /opt/venv/bin/pip install --no-deps --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/pip uninstall --yes pip

WORKDIR /app
COPY manage.py ./
COPY datalayer ./datalayer
COPY nebula ./nebula
COPY accounts ./accounts
COPY contact ./contact
COPY jobs ./jobs
COPY pictures ./pictures
COPY templates ./templates
COPY static ./static

# Production settings refuse to start without their variables. These
# placeholders exist for this one command in this throwaway stage: they are not
# in the final image's environment or history, and nothing is signed with them.
RUN DJANGO_SETTINGS_MODULE=nebula.settings.production \
    DJANGO_SECRET_KEY=build-time-placeholder-for-collectstatic-never-used-to-sign \
    NEBULA_OTP_ENCRYPTION_KEY=build-time-placeholder-never-used-to-encrypt \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    NEBULA_TABLE_PREFIX=build- \
    AWS_REGION=us-east-1 \
    EMAIL_HOST=build.invalid \
    DEFAULT_FROM_EMAIL=build@build.invalid \
    NEBULA_STATIC_ROOT=/app/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q --invalidation-mode unchecked-hash \
        /app/manage.py /app/datalayer /app/nebula /app/accounts /app/contact /app/jobs /app/pictures

# The unprivileged user the final stage runs as, with a fixed numeric id so the
# orchestrator can check "not root" without a passwd lookup.
RUN groupadd --system --gid 10001 nebula \
    && useradd --system --uid 10001 --gid nebula --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin nebula


# The final stage runs no command, it only copies: nothing mounted into the build
# (a pip configuration, a local package index) can leave a trace in it.
FROM python:3.13-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=nebula.settings.production \
    NEBULA_STATIC_ROOT=/app/staticfiles \
    PORT=8000
# Freed password-hash memory goes back to the system at once, so the bounded
# Argon2 concurrency bounds a worker's memory (docs/operations.md, "Memory").
ENV MALLOC_MMAP_THRESHOLD_=131072

# The same base, plus the nebula user (the builder's only change to these files).
COPY --from=builder /etc/passwd /etc/group /etc/
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Owned by root and read-only to the server: the site cannot rewrite its own code.
COPY --from=builder /app /app

USER 10001:10001
EXPOSE 8000

# ECS uses the task definition's health check; this one serves `docker run`,
# podman and anything else that reads the image's.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]

# Exec form: Gunicorn is PID 1 and receives the SIGTERM that ECS sends on stop.
CMD ["gunicorn", "-c", "python:nebula.gunicorn_conf"]
