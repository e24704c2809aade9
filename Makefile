# Every developer habit, and what CI runs. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help run test lint format check-deploy container-test bench lambda-package clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# A stamp per requirements set: pip runs only when a requirements file changed.
$(VENV)/.local-installed: requirements.txt requirements-local.txt lambdas/requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-local.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-local.txt lambdas/requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.local-installed

run: $(VENV)/.local-installed  ## serve the site on the local AWS stand-in (PORT=8000)
	$(PY) -m local.run

test: $(VENV)/.dev-installed  ## run every test (pytest; extra args in ARGS=...)
	$(PY) -m pytest $(ARGS)

lint: $(VENV)/.dev-installed  ## ruff lint and format check, import-linter's dependency rules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev-installed  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.dev-installed  ## startup and page timings, side by side (bench/run.py)
	$(PY) -m bench.run

check-deploy: $(VENV)/.local-installed  ## Django's deployment checks under production settings
	DJANGO_SETTINGS_MODULE=nebula.settings.production \
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=nebula.example.com NEBULA_TABLE_PREFIX=nebula-prod- AWS_REGION=eu-west-1 \
	EMAIL_HOST=email-smtp.eu-west-1.amazonaws.com DEFAULT_FROM_EMAIL=no-reply@nebula.example.com \
	$(PY) manage.py check --deploy --fail-level WARNING

lambda-package: $(VENV)/.local-installed  ## the Lambda deployment package for python3.13 (build/lambda.zip)
	$(PY) -m lambdas.build --output build/lambda.zip

# Needs root and podman (ecs/install-container-tools.sh); the standard library only, no venv.
container-test:  ## build the Dockerfile with podman and check the running container
	$(PYTHON) ecs/container_test.py $(ARGS)

clean:  ## remove the virtualenv and caches (keeps local data in .local/)
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles build
