"""One deploy, step by step (docs/deploy.md, "The deploy command").

1. the Lambda package is built (locally) and the image tag checked;
2. the registry stack, then the image: built with podman and pushed unless ECR
   already holds the tag (tags are immutable: a tag is one release);
3. the data stack; the Lambda package uploaded unless the bucket has it;
4. ``manage.py migrate --noinput`` as a one-off task with the new image, then the
   service stack with the new image, then ``services_stable``. The service is only
   changed after migrate succeeded. (On the very first deploy there is no service
   to protect: the stack is created first, since it holds the migrate task.)
5. the alarms stack, the Lambda stack (its API definition, an ``AWS::Include``,
   uploaded beside the package first: deploy/includes.py), and, when the Lambda
   API is new, the service stack again so its task role may call that API;
6. a summary of what changed.

Every stack changes through a change set that is printed before it runs. Any
failure raises ``DeployError`` and nothing after it runs.
"""

import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import image, includes, lambda_code, service, templates
from deploy.config import COMPUTED, STACKS, Config
from deploy.errors import DeployError
from deploy.stacks import StackResult, Stacks


@dataclass
class Summary:
    """What a deploy changed, in the order it happened."""

    lines: list[str] = field(default_factory=list)
    stacks: dict[str, StackResult] = field(default_factory=dict)

    def add(self, line: str) -> None:
        """Record one change (or non-change) for the final report."""
        self.lines.append(line)


class Deployment:
    """Deploy ``config`` with the clients of one boto3 session."""

    def __init__(
        self,
        config: Config,
        session: Any,
        *,
        say: Callable[[str], None] = print,
        lambda_package: Path | None = None,
        publish: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.say = say
        self.lambda_package = lambda_package
        # Builds the image and pushes it as the given URI (tests push to a local registry).
        self.publish = publish or self._build_and_push
        self.cloudformation = session.client("cloudformation")
        self.ecr = session.client("ecr")
        self.ecs = session.client("ecs")
        self.s3 = session.client("s3")
        self.sts = session.client("sts")
        self.stacks = Stacks(
            self.cloudformation,
            say=say,
            poll=config.poll_seconds,
            timeout=config.stack_timeout,
            role_arn=config.cloudformation_role_arn,
        )
        self.summary = Summary()

    # ---- helpers ----

    def _template(self, stack: str) -> Path:
        return self.config.templates / f"{stack}.yaml"

    def _name(self, stack: str) -> str:
        return self.config.stack_name(stack)

    def _table_prefix(self) -> str:
        return self.config.parameters.get("TablePrefix", f"nebula-{self.config.environment}-")

    def _parameters(self, stack: str, computed: dict[str, str]) -> dict[str, str]:
        """The template's declared parameters: the file's values, then the computed ones."""
        declared = templates.declared_parameters(self._template(stack))
        values = {k: v for k, v in self.config.parameters.items() if k in declared}
        values.update({k: v for k, v in computed.items() if k in declared})
        return values

    def _body(self, stack: str) -> str | None:
        """The template text to send: its local ``AWS::Include`` files uploaded first.

        CloudFormation reads an included file (lambdas.yaml's API definition) only
        from S3, while it makes the change set: so a dry run uploads it too (a few KB,
        keyed by its content, used by nothing until a stack names it).
        """
        template = self._template(stack)
        if not includes.local_includes(templates.read(template)):
            return None
        body, report = includes.package(template, self.s3, self.config.artifacts_bucket)
        for line in report:
            self.say(f"  include {line}")
            self.summary.add(f"include {line}")
        return body

    def _deploy_stack(self, stack: str, computed: dict[str, str]) -> StackResult:
        result = self.stacks.deploy(
            self._name(stack),
            self._template(stack),
            self._parameters(stack, computed),
            dry_run=self.config.dry_run,
            body=self._body(stack),
        )
        previous = self.summary.stacks.get(stack)
        if previous is not None:  # the service stack, a second time for the jobs API
            result = StackResult(
                result.name, f"{previous.action}, then {result.action}", previous.changes
            )
        self.summary.stacks[stack] = result
        return result

    def _check_parameters(self) -> None:
        """Stop before any change if the file names a parameter no template declares."""
        declared: set[str] = set()
        required: set[str] = set()
        for stack in STACKS:
            if not self._template(stack).exists():
                raise DeployError(f"template {self._template(stack)} is missing")
            declared |= templates.declared_parameters(self._template(stack))
            required |= templates.required_parameters(self._template(stack))
        unknown = sorted(set(self.config.parameters) - declared)
        if unknown:
            raise DeployError(
                f"the parameters file sets {', '.join(unknown)}, which no template declares "
                "(a typo?)"
            )
        missing = sorted(required - COMPUTED - set(self.config.parameters))
        if missing:
            raise DeployError(f"the parameters file must set {', '.join(missing)}")

    # ---- the steps ----

    def run(self) -> Summary:
        """Deploy; return the summary. Raises ``DeployError`` at the first failure."""
        with tempfile.TemporaryDirectory(prefix="nebula-deploy-") as work:
            self._work = Path(work)
            return self._run()

    def _run(self) -> Summary:
        config = self.config
        self._check_parameters()
        identity = self.sts.get_caller_identity()
        mode = "DRY RUN: nothing will be changed" if config.dry_run else "deploying"
        self.say(
            f"Nebula {config.environment} in {config.region}, account {identity['Account']} "
            f"as {identity['Arn']}: image tag {config.image_tag} ({mode})"
        )
        code_path, code_key = self._lambda_package()

        self.say("registry")
        self._deploy_stack("registry", {})
        registry = self.stacks.outputs(self._name("registry"))
        if not registry:
            return self._planned_after("registry", ("data", "service", "alarms", "lambdas"))
        repository = registry.get("RepositoryName") or registry["RepositoryUri"].split("/", 1)[1]
        image_uri = f"{registry['RepositoryUri']}:{config.image_tag}"
        self._image(repository, image_uri)

        self.say("data")
        self._deploy_stack("data", {"TablePrefix": self._table_prefix()})
        self._upload_lambda_code(code_path, code_key)

        common = {"TablePrefix": self._table_prefix(), "RepositoryName": repository}
        lambdas_outputs = self.stacks.outputs(self._name("lambdas"))
        jobs_api = lambdas_outputs.get("JobsApiId", "")
        rolled = self._service(image_uri, {**common, "ImageUri": image_uri, "JobsApiId": jobs_api})
        if rolled is None:
            return self._planned_after("service", ("alarms", "lambdas"))

        self.say("alarms")
        outputs = rolled
        self._deploy_stack(
            "alarms",
            {
                **common,
                "LoadBalancerFullName": outputs["LoadBalancerFullName"],
                "TargetGroupFullName": outputs["TargetGroupFullName"],
                "ClusterName": outputs["ClusterName"],
                "ServiceName": outputs["ServiceName"],
            },
        )
        alarms = self.stacks.outputs(self._name("alarms"))
        if not alarms:
            return self._planned_after("alarms", ("lambdas",))

        self.say("lambdas")
        self._deploy_stack(
            "lambdas",
            {
                **common,
                "CodeBucket": config.artifacts_bucket,
                "CodeKey": code_key,
                "MediaBucketName": self.config.parameters.get("MediaBucketName", ""),
                "AlarmTopicArn": alarms["AlarmTopicArn"],
            },
        )
        if config.dry_run:
            return self._finish()
        new_api = self.stacks.require_outputs(self._name("lambdas"), "JobsApiId")["JobsApiId"]
        if new_api != jobs_api:
            self.say("service (the task role may now call the jobs API)")
            self._deploy_stack("service", {**common, "ImageUri": image_uri, "JobsApiId": new_api})
            self._wait_for_service(image_uri, self._service_outputs())
        return self._finish()

    def _lambda_package(self) -> tuple[Path, str]:
        if self.lambda_package is not None:
            if not self.lambda_package.is_file():
                raise DeployError(f"the Lambda package {self.lambda_package} does not exist")
            path = self.lambda_package
        else:
            self.say("Lambda package: building for python3.13 (lambdas/build.py)")
            path = lambda_code.package(self._work / "lambda.zip")
        key = lambda_code.code_key(path)
        self.say(f"Lambda package: {path} ({path.stat().st_size / 1e6:.1f} MB), key {key}")
        return path, key

    def _image(self, repository: str, image_uri: str) -> None:
        tag = self.config.image_tag
        if image.image_in_repository(self.ecr, repository, tag):
            self.say(f"image: {image_uri} is already in ECR, not built again")
            self.summary.add(f"image {image_uri}: already in ECR")
            return
        if self.config.dry_run:
            self.say(f"image: would build {self.config.dockerfile} and push {image_uri}")
            self.summary.add(f"image {image_uri}: would be built and pushed")
            return
        started = time.time()
        self.publish(image_uri)
        if not image.image_in_repository(self.ecr, repository, tag):
            raise DeployError(f"image: the push reported success but ECR has no {image_uri}")
        self.summary.add(f"image {image_uri}: built and pushed in {time.time() - started:.0f} s")

    def _build_and_push(self, image_uri: str) -> None:
        self.say(f"image: building {self.config.dockerfile} with podman")
        local = image.build(
            tag=self.config.image_tag,
            dockerfile=self.config.dockerfile,
            context=self.config.context,
            pip_conf=self.config.pip_conf,
        )
        self.say(f"image: pushing {image_uri}")
        image.push(local, image_uri, image.registry_auth(self.ecr))

    def _upload_lambda_code(self, path: Path, key: str) -> None:
        bucket = self.config.artifacts_bucket
        if self.config.dry_run:
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
                self.summary.add(f"Lambda package s3://{bucket}/{key}: already uploaded")
            except Exception:  # noqa: BLE001 - any answer but "here" means it would be sent
                self.summary.add(f"Lambda package s3://{bucket}/{key}: would be uploaded")
            return
        key, sent = lambda_code.upload(self.s3, bucket, path)
        state = "uploaded" if sent else "already uploaded, unchanged"
        self.say(f"Lambda package: s3://{bucket}/{key} {state}")
        self.summary.add(f"Lambda package s3://{bucket}/{key}: {state}")

    def _service(self, image_uri: str, computed: dict[str, str]) -> dict[str, str] | None:
        """Migrate, then bring the service stack to the new image; return its outputs."""
        name = self._name("service")
        existing = self.stacks.describe(name) is not None
        self.say("service")
        if not existing:
            result = self._deploy_stack("service", computed)
            if result.action == "planned":
                self.say("  migrate: would run once the service stack exists")
                return None
            outputs = self._service_outputs()
            self._migrate(outputs, outputs["MigrateTaskDefinitionArn"], image_uri)
            self.summary.add(f"service: created with {image_uri}")
            return self._wait_for_service(image_uri, outputs)
        outputs = self._service_outputs()
        before = service.current_image(
            self.ecs, cluster=outputs["ClusterName"], service=outputs["ServiceName"]
        )
        if self.config.dry_run:
            self.say(f"  migrate: would run manage.py migrate with {image_uri} first")
            self._deploy_stack("service", computed)
            self.summary.add(f"service: would go from {before} to {image_uri}")
            return outputs
        migrate_definition = service.register_with_image(
            self.ecs, outputs["MigrateTaskDefinitionArn"], image_uri
        )
        try:
            self._migrate(outputs, migrate_definition, image_uri)
        finally:
            with contextlib.suppress(Exception):  # tidy-up only: never hides the real error
                self.ecs.deregister_task_definition(taskDefinition=migrate_definition)
        self._deploy_stack("service", computed)
        outputs = self._service_outputs()
        self._wait_for_service(image_uri, outputs)
        change = "unchanged" if before == image_uri else f"{before} -> {image_uri}"
        self.summary.add(f"service image: {change}")
        return outputs

    def _service_outputs(self) -> dict[str, str]:
        return self.stacks.require_outputs(
            self._name("service"),
            "ClusterName",
            "ServiceName",
            "TaskDefinitionArn",
            "MigrateTaskDefinitionArn",
            "TaskSecurityGroupId",
            "LogGroupName",
            "LoadBalancerFullName",
            "TargetGroupFullName",
        )

    def _migrate(self, outputs: dict[str, str], task_definition: str, image_uri: str) -> None:
        self.say(f"  migrate: manage.py migrate --noinput with {image_uri}")
        service.run_migrate(
            self.ecs,
            cluster=outputs["ClusterName"],
            task_definition=task_definition,
            subnets=self.config.parameters["PrivateSubnetIds"].split(","),
            security_groups=[outputs["TaskSecurityGroupId"]],
            log_group=outputs["LogGroupName"],
            region=self.config.region,
            poll=self.config.poll_seconds,
            timeout=self.config.migrate_timeout,
            say=self.say,
        )
        self.summary.add("migrate: manage.py migrate --noinput exited 0")

    def _wait_for_service(self, image_uri: str, outputs: dict[str, str]) -> dict[str, str]:
        self.say(f"  service {outputs['ServiceName']}: waiting until stable")
        found = service.wait_until_stable(
            self.ecs,
            cluster=outputs["ClusterName"],
            service=outputs["ServiceName"],
            poll=self.config.poll_seconds,
            timeout=self.config.stable_timeout,
        )
        task_definition, running = service.service_image(self.ecs, found)
        if task_definition != outputs["TaskDefinitionArn"] or running != image_uri:
            raise DeployError(
                f"service {outputs['ServiceName']} runs {task_definition} ({running}), not "
                f"{outputs['TaskDefinitionArn']} ({image_uri}): the deployment was rolled back"
            )
        self.say(f"  service: stable on {task_definition.rsplit('/', 1)[-1]} ({image_uri})")
        return outputs

    def _planned_after(self, stack: str, later: tuple[str, ...]) -> Summary:
        for name in later:
            self.say(f"{name}: planned once the {stack} stack exists (it needs its outputs)")
        return self._finish()

    def _finish(self) -> Summary:
        site = self.stacks.outputs(self._name("service")).get("LoadBalancerDnsName")
        self.say("")
        self.say("Planned changes:" if self.config.dry_run else "What changed:")
        for stack in STACKS:
            result = self.summary.stacks.get(stack)
            if result is None:
                continue
            count = f", {len(result.changes)} resource change(s)" if result.changes else ""
            self.say(f"  stack {result.name}: {result.action}{count}")
        for line in self.summary.lines:
            self.say(f"  {line}")
        if site and not self.config.dry_run:
            self.say(f"  load balancer: {site}")
        return self.summary
