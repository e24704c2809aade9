"""What one deploy needs to know, from the command line and the environment.

Nothing here is secret: the secrets reach the tasks from Secrets Manager, and the
parameters file names only their ARNs. AWS credentials come the usual botocore way
(environment, profile, the CI's assumed role), never as arguments.
"""

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from deploy.errors import DeployError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "ecs" / "templates"

# The stacks in the order a first deploy creates them (docs/deploy.md, "Infrastructure").
STACKS = ("registry", "data", "service", "alarms", "lambdas")

# Template parameters the deploy program fills itself, from other stacks' outputs or
# from what it built: a parameters file may not set them.
COMPUTED = frozenset(
    {
        "ImageUri",
        "RepositoryName",
        "CodeBucket",
        "CodeKey",
        "JobsApiId",
        "AlarmTopicArn",
        "LoadBalancerFullName",
        "TargetGroupFullName",
        "ClusterName",
        "ServiceName",
    }
)

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Config:
    """One deploy: where to, which release, with which stack parameters."""

    environment: str
    region: str
    image_tag: str
    artifacts_bucket: str
    parameters: dict[str, str]
    dry_run: bool = False
    templates: Path = TEMPLATES
    dockerfile: Path = ROOT / "Dockerfile"
    context: Path = ROOT
    pip_conf: Path | None = None
    cloudformation_role_arn: str | None = None
    migrate_timeout: int = 900
    stable_timeout: int = 1800
    stack_timeout: int = 3600
    poll_seconds: float = 6.0
    stack_prefix: str = field(default="nebula")

    def stack_name(self, stack: str) -> str:
        """Return the CloudFormation name of one of ``STACKS`` in this environment."""
        return f"{self.stack_prefix}-{self.environment}-{stack}"


def check_environment_name(name: str) -> str:
    """Return ``name`` if it can name stacks (lower case, digits, dashes); else stop."""
    if not _ENVIRONMENT.match(name or ""):
        raise DeployError(
            f"environment name {name!r}: use 1-20 lower-case letters, digits or dashes, "
            "starting with a letter (it names the stacks: nebula-<environment>-service)"
        )
    return name


def check_image_tag(tag: str) -> str:
    """Return ``tag`` if ECR accepts it as a tag; else stop."""
    if not _TAG.match(tag or "") or tag == "latest":
        raise DeployError(
            f"image tag {tag!r}: use letters, digits, '_', '.', '-' (at most 128), not 'latest' "
            "(the repository's tags are immutable: one tag, one release)"
        )
    return tag


def git_image_tag(*, allow_dirty: bool, root: Path = ROOT) -> str:
    """Return the release tag for the checked-out commit: its short SHA.

    A working tree with uncommitted changes would ship code no commit holds, so it
    is refused unless ``allow_dirty``; then the tag says so and is unique
    (``<sha>-dirty-<UTC timestamp>``), since ECR's tags are immutable. Untracked files
    count too (the Dockerfile copies whole folders); ignored ones do not.
    """

    def git(*args: str) -> str:
        try:
            result = subprocess.run(  # noqa: S603 - fixed git commands
                ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise DeployError(
                f"cannot read the git commit to tag the image ({exc}); pass --image-tag"
            ) from exc
        return result.stdout.rstrip()

    sha = git("rev-parse", "--short=12", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=normal").splitlines()
    if changed:
        if not allow_dirty:
            paths = ", ".join(line[3:] for line in changed[:3]) + (", ..." if changed[3:] else "")
            raise DeployError(
                f"the working tree has uncommitted changes ({paths}): commit them, or pass "
                "--allow-dirty to deploy them under a '-dirty-' tag, or --image-tag to deploy "
                "an existing image"
            )
        from datetime import UTC, datetime

        return f"{sha}-dirty-{datetime.now(UTC):%Y%m%d%H%M%S}"
    return sha


def load_parameters(path: Path) -> dict[str, str]:
    """Read the environment's stack parameters: one JSON object, names to values.

    Lists (subnets) become CloudFormation's comma-separated strings. Parameters the
    deploy program computes (``COMPUTED``) are refused: a stale copy in a file
    would win over the real value.
    """
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise DeployError(f"cannot read the parameters file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise DeployError(f"the parameters file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DeployError(f"the parameters file {path} must hold one JSON object")
    parameters: dict[str, str] = {}
    for name, value in data.items():
        if name in COMPUTED:
            raise DeployError(
                f"the parameters file {path} sets {name}: the deploy program computes it, "
                "remove it from the file"
            )
        if isinstance(value, list):
            parameters[name] = ",".join(str(item) for item in value)
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DeployError(f"parameter {name} in {path}: give a string, a number or a list")
        else:
            parameters[name] = str(value)
    return parameters
