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


def _deploy_step() -> dict[str, Any]:
    [step] = [s for _, s in _steps(_load("deploy.yml")) if s.get("run") == "make deploy"]
    return step


def test_the_deploy_step_sets_what_make_deploy_reads_and_all_it_needs():
    """Every variable the step sets is one deploy/cli.py reads; every required option is set."""
    from deploy.cli import ENVIRONMENT_VARIABLES, REQUIRED

    env = _deploy_step()["env"]
    read = {name for names in ENVIRONMENT_VARIABLES.values() for name in names}

    assert set(env) - read == set()
    for option in REQUIRED:
        assert any(name in env for name in ENVIRONMENT_VARIABLES[option]), option
    # From the repository's variables (or the run's input), never written in the workflow.
    for name, value in env.items():
        assert re.fullmatch(r"\$\{\{ (vars|inputs)\.\w+( \|\| '[\w-]+')? \}\}", value), name


def test_a_push_deploys_the_checked_out_commit_and_a_manual_run_may_name_an_older_tag(
    monkeypatch: pytest.MonkeyPatch,
):
    """IMAGE_TAG is empty on a push (the program tags HEAD, which is github.sha) and the
    dispatch input otherwise; the program treats an empty IMAGE_TAG as unset."""
    from deploy import cli

    deploy = _load("deploy.yml")
    env = _deploy_step()["env"]

    assert env["IMAGE_TAG"] == "${{ inputs.image_tag }}"
    assert deploy["on"]["workflow_dispatch"]["inputs"]["image_tag"]["default"] == ""
    assert "push" in deploy["on"]
    steps = deploy["jobs"]["deploy"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout.get("with", {})  # the pushed commit, github.sha
    monkeypatch.setenv("IMAGE_TAG", "")  # what a push passes
    assert cli._parser().parse_args([]).image_tag is None  # so: git_image_tag, HEAD's SHA
    monkeypatch.setenv("IMAGE_TAG", "0123456789ab")
    assert cli._parser().parse_args([]).image_tag == "0123456789ab"


def test_every_repository_variable_the_deploy_uses_is_documented():
    text = (WORKFLOWS / "deploy.yml").read_text()
    docs = (WORKFLOWS.parents[1] / "docs" / "deploy.md").read_text()
    header = text.split("\nname:", 1)[0]

    used = set(re.findall(r"vars\.(\w+)", text))
    assert used
    for name in used:
        assert f"#   {name} " in header, name
        assert f"`{name}`" in docs, name
