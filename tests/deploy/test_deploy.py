"""The deploy program end to end against a moto server: first deploy, next release, failures.

What moto cannot show (change-set failures, rollbacks) is in test_stacks.py; the
real image push in test_image.py. Here the image "push" records a manifest in
moto's ECR, since moto has no registry to push to.
"""

import hashlib
import json
from pathlib import Path

import boto3
import pytest

from deploy.errors import DeployError
from deploy.run import Deployment
from tests.deploy.conftest import REGION, Account, record_in_ecr, write_package
from tests.support import ROOT

pytestmark = [pytest.mark.no_dynamodb, pytest.mark.slow]


POLICY = json.loads((ROOT / "ecs" / "deploy-policy.json").read_text())
ALLOWED = {
    action
    for statement in POLICY["Statement"]
    if statement["Effect"] == "Allow"
    for action in (
        [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
    )
}
# IAM actions of the S3 calls whose names differ; sts:GetCallerIdentity needs no permission.
S3_ACTIONS = {"HeadObject": "s3:GetObject", "CreateMultipartUpload": "s3:PutObject"}


def deploy(
    account: Account,
    tag: str,
    *,
    pushed: list[str] | None = None,
    bodies: dict[str, str] | None = None,
    **changes: object,
):
    """Run one deploy of ``tag``; return the printed lines.

    Every AWS call it makes must be allowed by ecs/deploy-policy.json, the deploying
    role's policy. ``bodies`` receives the template body of each change set, by stack.
    """
    lines: list[str] = []
    pushed = pushed if pushed is not None else []
    bodies = bodies if bodies is not None else {}
    calls: set[str] = set()
    session = boto3.Session(region_name=REGION)

    def record(model: object, **_: object) -> None:
        service, operation = model.service_model.signing_name, model.name
        calls.add(S3_ACTIONS.get(operation, f"{service}:{operation}"))

    def body(params: dict, **_: object) -> None:
        bodies[params["StackName"]] = params["TemplateBody"]

    session.events.register("before-call", record)
    session.events.register("provide-client-params.cloudformation.CreateChangeSet", body)

    def publish(image_uri: str) -> None:
        pushed.append(image_uri)
        record_in_ecr(account.session, image_uri)

    Deployment(
        account.config(tag, **changes),
        session,
        say=lines.append,
        lambda_package=account.lambda_package,
        publish=publish,
    ).run()
    print("\n".join(lines))  # shown when a test fails
    assert calls - ALLOWED - {"sts:GetCallerIdentity"} == set()
    return lines


def web_service(session: boto3.Session) -> tuple[dict, str]:
    """Return the deployed web service and the image its task definition runs."""
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in session.client("cloudformation").describe_stacks(StackName="nebula-test-service")[
            "Stacks"
        ][0]["Outputs"]
    }
    ecs = session.client("ecs")
    [service] = ecs.describe_services(
        cluster=outputs["ClusterName"], services=[outputs["ServiceName"]]
    )["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return service, definition["taskDefinition"]["containerDefinitions"][0]["image"]


def migrate_runs(session: boto3.Session) -> list[dict]:
    """Return the migrate tasks the deploys started, with their container images."""
    ecs = session.client("ecs")
    clusters = ecs.list_clusters()["clusterArns"]
    arns = ecs.list_tasks(cluster=clusters[0], startedBy="nebula-deploy")["taskArns"]
    return ecs.describe_tasks(cluster=clusters[0], tasks=arns)["tasks"] if arns else []


def test_a_first_deploy_creates_every_stack_migrates_and_runs_the_image(account: Account) -> None:
    """And deploying the same release again changes nothing and pushes nothing."""
    pushed: list[str] = []
    bodies: dict[str, str] = {}
    lines = deploy(account, "v1", pushed=pushed, bodies=bodies)

    cloudformation = account.session.client("cloudformation")
    for stack in ("registry", "data", "service", "alarms", "lambdas"):
        [found] = cloudformation.describe_stacks(StackName=f"nebula-test-{stack}")["Stacks"]
        assert found["StackStatus"] == "CREATE_COMPLETE" or found["StackStatus"].startswith(
            "UPDATE_COMPLETE"
        ), stack
    image = f"{ACCOUNT_REGISTRY}/nebula-web:v1"
    assert pushed == [image]
    service, running = web_service(account.session)
    assert running == image
    assert service["runningCount"] == service["desiredCount"] == 2
    [migrate] = migrate_runs(account.session)
    assert migrate["lastStatus"] == "STOPPED"
    # The Lambda package went to the artefacts bucket under its content hash.
    keys = [
        o["Key"]
        for o in account.session.client("s3").list_objects_v2(Bucket=account.artifacts_bucket)[
            "Contents"
        ]
    ]
    # So did the API definition the Lambda stack includes, and the template body sent
    # to CloudFormation names that copy instead of the local file.
    [package] = [key for key in keys if key.endswith(".zip")]
    assert package.startswith("lambdas/")
    openapi = (ROOT / "lambdas" / "openapi.json").read_bytes()
    include = f"lambdas/include/{hashlib.sha256(openapi).hexdigest()}.json"
    assert sorted(keys) == sorted([package, include])
    uploaded = account.session.client("s3").get_object(Bucket=account.artifacts_bucket, Key=include)
    assert uploaded["Body"].read() == openapi
    body = bodies["nebula-test-lambdas"]
    assert f"Location: s3://{account.artifacts_bucket}/{include}\n" in body
    assert "../openapi.json" not in body
    # The service stack was updated a second time with the new jobs API's id.
    api = cloudformation.describe_stacks(StackName="nebula-test-lambdas")["Stacks"][0]["Outputs"]
    api_id = next(o["OutputValue"] for o in api if o["OutputKey"] == "JobsApiId")
    parameters = cloudformation.describe_stacks(StackName="nebula-test-service")["Stacks"][0][
        "Parameters"
    ]
    assert {"ParameterKey": "JobsApiId", "ParameterValue": api_id} in parameters
    # What changed is printed, change set by change set, then summed up.
    text = "\n".join(lines)
    assert "nebula-test-data: create, 12 resource change(s)" in text
    assert "Add     UsersTable (AWS::DynamoDB::Table)" in text
    assert "What changed:" in text
    assert f"image {image}: built and pushed" in text
    assert "migrate: manage.py migrate --noinput exited 0" in text

    pushed.clear()
    text = "\n".join(deploy(account, "v1", pushed=pushed))

    assert pushed == []
    for stack in ("registry", "data", "service", "alarms", "lambdas"):
        assert f"nebula-test-{stack}: no changes" in text
    assert "already in ECR" in text
    assert "already uploaded, unchanged" in text
    assert (
        f"../openapi.json -> s3://{account.artifacts_bucket}/{include} (already uploaded)" in text
    )


ACCOUNT_REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_the_next_release_migrates_then_rolls_the_service_to_the_new_image(
    account: Account,
) -> None:
    """After a dry run of it, which changes nothing."""
    deploy(account, "v1")
    write_package(account.lambda_package, "v2")
    pushed: list[str] = []
    cloudformation = account.session.client("cloudformation")

    lines = deploy(account, "v2", pushed=pushed, dry_run=True)

    assert pushed == []
    _, running = web_service(account.session)
    assert running == f"{ACCOUNT_REGISTRY}/nebula-web:v1"
    assert len(migrate_runs(account.session)) == 1  # the first deploy's only
    for stack in ("registry", "data", "service", "alarms", "lambdas"):
        name = f"nebula-test-{stack}"
        waiting = [
            summary
            for summary in cloudformation.list_change_sets(StackName=name)["Summaries"]
            if summary["ExecutionStatus"] != "EXECUTE_COMPLETE"
        ]
        assert waiting == [], stack
    text = "\n".join(lines)
    assert "DRY RUN" in text
    assert "would build" in text
    assert "migrate: would run manage.py migrate" in text
    assert "would be uploaded" in text
    assert "Planned changes:" in text

    lines = deploy(account, "v2", pushed=pushed)

    image = f"{ACCOUNT_REGISTRY}/nebula-web:v2"
    assert pushed == [image]
    service, running = web_service(account.session)
    assert running == image
    assert service["taskDefinition"].endswith("-web:2")
    _first, second = sorted(
        migrate_runs(account.session), key=lambda task: task["containers"][0]["image"]
    )
    assert second["containers"][0]["image"] == image  # migrate ran the new code
    # Its one-off task definition revision was deregistered after the run.
    definition = account.session.client("ecs").describe_task_definition(
        taskDefinition=second["taskDefinitionArn"]
    )["taskDefinition"]
    assert definition["status"] == "INACTIVE"
    text = "\n".join(lines)
    assert "nebula-test-registry: no changes" in text
    assert "nebula-test-data: no changes" in text
    assert f"service image: {ACCOUNT_REGISTRY}/nebula-web:v1 -> {image}" in text
    assert f"    parameter ImageUri: '{ACCOUNT_REGISTRY}/nebula-web:v1' -> '{image}'" in text
    # Two Lambda packages, and one API definition (unchanged, so not sent again).
    keys = [
        o["Key"]
        for o in account.session.client("s3").list_objects_v2(Bucket=account.artifacts_bucket)[
            "Contents"
        ]
    ]
    assert len([key for key in keys if key.endswith(".zip")]) == 2
    assert len([key for key in keys if key.startswith("lambdas/include/")]) == 1


def test_a_failing_migrate_stops_the_deploy_and_the_service_keeps_the_old_release(
    account: Account,
) -> None:
    deploy(account, "v1")
    service_before, image_before = web_service(account.session)
    account.server.set_exit_code("nebula-test-service-migrate", 1)

    with pytest.raises(DeployError) as failure:
        deploy(account, "v2")

    message = str(failure.value)
    assert "migrate exited with status 1" in message
    assert "the service was not changed" in message
    assert "/nebula/nebula-test-service/web" in message  # where its logs are
    service_after, image_after = web_service(account.session)
    assert image_after == image_before == f"{ACCOUNT_REGISTRY}/nebula-web:v1"
    assert service_after["taskDefinition"] == service_before["taskDefinition"]
    parameters = account.session.client("cloudformation").describe_stacks(
        StackName="nebula-test-service"
    )["Stacks"][0]["Parameters"]
    assert {
        "ParameterKey": "ImageUri",
        "ParameterValue": f"{ACCOUNT_REGISTRY}/nebula-web:v1",
    } in parameters


def test_a_dry_run_on_an_empty_account_plans_the_first_stacks_and_leaves_none(
    account: Account,
) -> None:
    lines = deploy(account, "v1", dry_run=True)

    assert account.session.client("cloudformation").describe_stacks()["Stacks"] == [] or all(
        stack["StackStatus"] == "DELETE_COMPLETE"
        for stack in account.session.client("cloudformation").describe_stacks()["Stacks"]
    )
    text = "\n".join(lines)
    assert "nebula-test-registry: would be created (1 resources, registry.yaml)" in text
    assert "service: planned once the registry stack exists" in text


def test_a_parameter_no_template_declares_stops_before_any_change(account: Account) -> None:
    account.parameters["VpcID"] = "vpc-typo"

    with pytest.raises(DeployError, match="VpcID, which no template declares"):
        deploy(account, "v1")

    assert account.session.client("cloudformation").describe_stacks()["Stacks"] == []


def test_a_lambda_package_that_is_missing_stops_before_any_change(
    account: Account, tmp_path: Path
) -> None:
    account.lambda_package = tmp_path / "nothing.zip"

    with pytest.raises(DeployError, match=r"nothing\.zip does not exist"):
        deploy(account, "v1")


def test_a_parameter_the_stacks_need_missing_stops_before_any_change(account: Account) -> None:
    del account.parameters["CertificateArn"]

    with pytest.raises(DeployError, match=r"the parameters file must set CertificateArn$"):
        deploy(account, "v1")

    assert account.session.client("cloudformation").describe_stacks()["Stacks"] == []
