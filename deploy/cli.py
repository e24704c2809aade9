"""``python -m deploy`` (``make deploy``): deploy this checkout to one AWS environment.

    python -m deploy --environment prod --parameters deploy/prod.json \\
        --artifacts-bucket my-nebula-artifacts [--image-tag TAG] [--dry-run]

Every option has an environment variable (in brackets in ``--help``); AWS
credentials and region come the standard botocore way. Exit status 0 when the
release runs (or the plan was printed), 1 with one ``deploy failed:`` line when a
step failed, 2 for bad usage.
"""

import argparse
import os
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deploy.config import (
    Config,
    check_environment_name,
    check_image_tag,
    git_image_tag,
    load_parameters,
)
from deploy.errors import DeployError

# The environment variables the command reads, by option: the first one set is the
# option's default. The deploy workflow (.github/workflows/deploy.yml) sets them from
# repository variables; tests/ecs/test_workflows.py holds it to this table.
ENVIRONMENT_VARIABLES: dict[str, tuple[str, ...]] = {
    "--environment": ("NEBULA_ENVIRONMENT",),
    "--region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "--parameters": ("NEBULA_DEPLOY_PARAMETERS",),
    "--artifacts-bucket": ("NEBULA_ARTIFACTS_BUCKET",),
    "--image-tag": ("IMAGE_TAG",),
    "--allow-dirty": ("NEBULA_ALLOW_DIRTY",),
    "--lambda-package": ("NEBULA_LAMBDA_PACKAGE",),
    "--pip-conf": ("NEBULA_PIP_CONF",),
    "--cloudformation-role-arn": ("NEBULA_CLOUDFORMATION_ROLE_ARN",),
}
# Options a deploy cannot run without (from the command line or the environment).
REQUIRED = ("--environment", "--region", "--parameters", "--artifacts-bucket")


def _parser() -> argparse.ArgumentParser:
    def env(option: str) -> str | None:
        for name in ENVIRONMENT_VARIABLES[option]:
            if os.environ.get(name):
                return os.environ[name]
        return None

    parser = argparse.ArgumentParser(
        prog="make deploy",
        description="Build, push and roll out one release of Nebula (docs/deploy.md).",
    )
    parser.add_argument(
        "--environment",
        default=env("--environment"),
        help="environment name; stacks are nebula-<environment>-<stack> [NEBULA_ENVIRONMENT]",
    )
    parser.add_argument(
        "--region",
        default=env("--region"),
        help="AWS region [AWS_REGION]",
    )
    parser.add_argument(
        "--parameters",
        type=Path,
        default=env("--parameters"),
        help="JSON file of the stacks' parameters for this environment [NEBULA_DEPLOY_PARAMETERS]",
    )
    parser.add_argument(
        "--artifacts-bucket",
        default=env("--artifacts-bucket"),
        help="S3 bucket for the Lambda package [NEBULA_ARTIFACTS_BUCKET]",
    )
    parser.add_argument(
        "--image-tag",
        default=env("--image-tag"),
        help="deploy this tag (e.g. a previous release, to roll back); default: the git "
        "commit's short SHA [IMAGE_TAG]",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        default=env("--allow-dirty") == "1",
        help="build from a working tree with uncommitted changes (tag <sha>-dirty-<time>) "
        "[NEBULA_ALLOW_DIRTY=1]",
    )
    parser.add_argument(
        "--lambda-package",
        type=Path,
        default=env("--lambda-package"),
        help="use this built package (make lambda-package) instead of building one "
        "[NEBULA_LAMBDA_PACKAGE]",
    )
    parser.add_argument(
        "--pip-conf",
        type=Path,
        default=env("--pip-conf"),
        help="pip.conf for the image build (a private index), passed as a build secret "
        "[NEBULA_PIP_CONF]",
    )
    parser.add_argument(
        "--cloudformation-role-arn",
        default=env("--cloudformation-role-arn"),
        help="the role CloudFormation creates the resources as (recommended; see "
        "docs/deploy.md) [NEBULA_CLOUDFORMATION_ROLE_ARN]",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="change nothing: create, print and delete the change sets, build and push "
        "no image, run no task",
    )
    return parser


def config_from(args: argparse.Namespace) -> Config:
    """Check the arguments and turn them into a ``Config``; raise ``DeployError`` if wrong."""
    missing = [flag for flag in REQUIRED if not getattr(args, flag[2:].replace("-", "_"))]
    if missing:
        raise DeployError(f"missing {', '.join(missing)} (or its environment variable; --help)")
    tag = args.image_tag or git_image_tag(allow_dirty=args.allow_dirty)
    return Config(
        environment=check_environment_name(args.environment),
        region=args.region,
        image_tag=check_image_tag(tag),
        artifacts_bucket=args.artifacts_bucket,
        parameters=load_parameters(Path(args.parameters)),
        dry_run=args.dry_run,
        pip_conf=args.pip_conf,
        cloudformation_role_arn=args.cloudformation_role_arn,
    )


def main(argv: list[str] | None = None, session: object | None = None) -> int:
    """Run the deploy; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        config = config_from(args)
        if session is None:
            import boto3

            session = boto3.Session(region_name=config.region)
        from deploy.run import Deployment

        Deployment(config, session, lambda_package=args.lambda_package).run()
    except DeployError as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)  # noqa: T201 - the command's answer
        return 1
    except (BotoCoreError, ClientError) as exc:  # credentials, network, an unexpected refusal
        print(f"deploy failed: AWS: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0
