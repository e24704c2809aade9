"""The deploy command's configuration: bad input stops it with one clear line, before AWS."""

import json
import subprocess
from pathlib import Path

import pytest

from deploy import cli
from deploy.config import ROOT, git_image_tag, load_parameters
from deploy.errors import DeployError
from tests.support import free_port

pytestmark = pytest.mark.no_dynamodb

EXAMPLE = ROOT / "ecs" / "environments" / "example.json"


@pytest.fixture
def parameters(tmp_path: Path) -> Path:
    path = tmp_path / "test.json"
    path.write_text(json.dumps({"PrivateSubnetIds": ["subnet-1", "subnet-2"], "TaskCpu": 512}))
    return path


@pytest.fixture
def no_deploy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEBULA_ENVIRONMENT", "NEBULA_DEPLOY_PARAMETERS", "NEBULA_ARTIFACTS_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def test_missing_settings_are_named_in_one_line_and_exit_1(
    no_deploy_environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([]) == 1

    err = capsys.readouterr().err
    assert err == (
        "deploy failed: missing --environment, --parameters, --artifacts-bucket "
        "(or its environment variable; --help)\n"
    )


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--environment", "Prod!", "environment name 'Prod!'"),
        ("--image-tag", "latest", "image tag 'latest'"),
        ("--image-tag", "a b", "image tag 'a b'"),
    ],
)
@pytest.mark.usefixtures("no_deploy_environment")
def test_a_bad_name_or_tag_is_refused(
    parameters: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    message: str,
) -> None:
    args = {
        "--environment": "test",
        "--parameters": str(parameters),
        "--artifacts-bucket": "b",
        "--image-tag": "v1",
    }
    args[flag] = value

    assert cli.main([item for pair in args.items() for item in pair]) == 1

    assert capsys.readouterr().err.startswith(f"deploy failed: {message}")


def test_the_parameters_file_gives_cloudformation_strings(parameters: Path) -> None:
    assert load_parameters(parameters) == {
        "PrivateSubnetIds": "subnet-1,subnet-2",
        "TaskCpu": "512",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"ImageUri": "x"}', "sets ImageUri: the deploy program computes it"),
        ("[1, 2]", "must hold one JSON object"),
        ("{nope", "is not JSON"),
        ('{"DesiredCount": true}', "parameter DesiredCount"),
    ],
)
def test_a_bad_parameters_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)

    with pytest.raises(DeployError, match=message):
        load_parameters(path)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_the_default_tag_is_the_commit_and_a_dirty_tree_is_refused(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text("print(1)\n")
    _git(tmp_path, "add", "app.py")
    _git(tmp_path, "commit", "-qm", "first")
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert git_image_tag(allow_dirty=False, root=tmp_path) == sha

    (tmp_path / "app.py").write_text("print(2)\n")
    with pytest.raises(DeployError, match=r"uncommitted changes \(app\.py\)"):
        git_image_tag(allow_dirty=False, root=tmp_path)
    assert git_image_tag(allow_dirty=True, root=tmp_path).startswith(f"{sha}-dirty-")

    _git(tmp_path, "checkout", "app.py")
    (tmp_path / "new.py").write_text("print(3)\n")  # the image would copy it
    with pytest.raises(DeployError, match=r"uncommitted changes \(new\.py\)"):
        git_image_tag(allow_dirty=False, root=tmp_path)
    (tmp_path / ".gitignore").write_text("new.py\n.gitignore\n")
    assert git_image_tag(allow_dirty=False, root=tmp_path) == sha


def test_an_unreachable_aws_is_one_line_and_exit_1(
    no_deploy_environment: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    package = tmp_path / "lambda.zip"
    package.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    closed = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    status = cli.main(
        [
            *("--environment", "test", "--parameters", str(EXAMPLE)),
            *("--artifacts-bucket", "b", "--image-tag", "v1"),
            *("--lambda-package", str(package)),
        ]
    )

    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("deploy failed: AWS: Could not connect to the endpoint URL")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "name"),
    [(option, name) for option, names in cli.ENVIRONMENT_VARIABLES.items() for name in names],
)
def test_every_variable_in_the_table_is_what_its_option_reads(
    option: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table the deploy workflow is checked against (tests/ecs/test_workflows.py) is true."""
    for names in cli.ENVIRONMENT_VARIABLES.values():
        for other in names:
            monkeypatch.delenv(other, raising=False)
    dest = option[2:].replace("-", "_")
    assert getattr(cli._parser().parse_args([]), dest) in (None, False)

    monkeypatch.setenv(name, "1")

    assert getattr(cli._parser().parse_args([]), dest) in ("1", Path("1"), True)
