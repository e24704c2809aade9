"""The GitHub workflows keep the properties docs/deploy.md promises.

actionlint (in ``make iac-check``) checks that they are valid; it does not check
what they may do. These read them as data and fail on: an action not pinned to a
full commit SHA with its version beside it, a stored AWS key, an OIDC token
outside the deploy job, deploys that could overlap or run from another branch.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.no_dynamodb

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _steps(workflow: dict[str, Any]):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_action_is_pinned_to_a_commit_with_its_version(name):
    lines = (WORKFLOWS / name).read_text().splitlines()
    uses = [line.split("uses:", 1)[1].strip() for line in lines if "uses:" in line]

    assert uses
    for action in uses:
        assert action.startswith("./") or PINNED.match(action), action


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_no_workflow_reads_a_stored_secret_or_grants_more_than_reading(name):
    text = (WORKFLOWS / name).read_text()
    workflow = _load(name)

    assert "secrets." not in text  # no access key, nor anything else stored
    assert "aws-access-key-id" not in text
    assert workflow["permissions"] == {"contents": "read"}
    # An OIDC token only where it is exchanged for the deploy role's credentials.
    for job_name, job in workflow["jobs"].items():
        if (name, job_name) != ("deploy.yml", "deploy"):
            assert "id-token" not in job.get("permissions", {}), job_name


def test_pull_requests_run_lint_and_tests():
    ci = _load("ci.yml")
    runs = [step.get("run") for _, step in _steps(ci)]

    assert "pull_request" in ci["on"]
    assert "workflow_call" in ci["on"]  # the deploy runs it first
    assert {"make lint", "make test", "make e2e"} <= set(runs)


def test_main_is_deployed_with_oidc_one_deploy_at_a_time():
    deploy = _load("deploy.yml")
    jobs = deploy["jobs"]

    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    job = jobs["deploy"]
    assert job["needs"] == "test"
    assert job["environment"] == "production"
    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = [s for _, s in _steps({"jobs": {"deploy": job}}) if "role-to-assume" in str(s)]
    assert credentials[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials[0]["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert job["steps"][-1]["run"] == "make deploy"
