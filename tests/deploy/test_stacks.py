"""Change-set paths moto cannot show, with botocore's Stubber on the same client.

moto has no failure or rollback model for CloudFormation: a change set that AWS
rejects, or an execution CloudFormation rolls back, is answered here as AWS
answers it, call by call, and the deploy program must stop with one clear line.
"""

import datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from deploy.config import TEMPLATES
from deploy.errors import DeployError
from deploy.stacks import TEMPLATE_BODY_LIMIT, Stacks

pytestmark = pytest.mark.no_dynamodb

NAME = "nebula-test-service"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{NAME}/1"
CHANGE_SET = f"arn:aws:cloudformation:eu-west-1:123456789012:changeSet/deploy/{NAME}"
NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def client() -> object:
    return boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",
    )


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "service.yaml"
    path.write_text("Resources: {}\n")
    return path


def stack(status: str, outputs: list | None = None) -> dict:
    found = {"StackName": NAME, "StackId": STACK_ID, "StackStatus": status, "CreationTime": NOW}
    if outputs is not None:
        found["Outputs"] = outputs
    return {"Stacks": [found]}


def change_set(status: str, reason: str = "", changes: list | None = None) -> dict:
    return {
        "ChangeSetId": CHANGE_SET,
        "StackId": STACK_ID,
        "Status": status,
        "StatusReason": reason,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Changes": changes or [],
    }


def created(stubber: Stubber, kind: str = "UPDATE", body: object = ANY) -> None:
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET, "StackId": STACK_ID},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": kind,
            "TemplateBody": body,
            "Parameters": ANY,
            "Capabilities": ANY,
            "Tags": ANY,
        },
    )


MODIFY = {
    "Type": "Resource",
    "ResourceChange": {
        "Action": "Modify",
        "LogicalResourceId": "TaskDefinition",
        "ResourceType": "AWS::ECS::TaskDefinition",
        "Replacement": "True",
    },
}


def test_a_change_set_cloudformation_rejects_is_deleted_and_stops_the_deploy(
    client: object, template: Path
) -> None:
    lines: list[str] = []
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        created(stubber)
        reason = "Parameter 'TaskMemory' must be one of AllowedValues"
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response(
            "delete_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )

        with pytest.raises(DeployError) as failure:
            Stacks(client, say=lines.append, poll=1).deploy(NAME, template, {"TaskMemory": "7"})

        stubber.assert_no_pending_responses()  # deleted, never executed
    assert str(failure.value) == (
        f"stack {NAME}: the change set failed: {reason} (deleted; nothing was changed)"
    )


def test_a_change_set_without_changes_is_deleted_and_is_no_error(
    client: object, template: Path
) -> None:
    lines: list[str] = []
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        created(stubber)
        reason = (
            "The submitted information didn't contain changes. Submit different information "
            "to create a change set."
        )
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response(
            "delete_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )

        result = Stacks(client, say=lines.append, poll=1).deploy(NAME, template, {})

        stubber.assert_no_pending_responses()
    assert result.action == "unchanged"
    assert lines == [f"  {NAME}: no changes"]


def test_the_body_given_is_what_the_change_set_is_made_of(client: object, template: Path) -> None:
    """The Lambda stack's body with its include pointed at S3 (deploy/includes.py), not the file."""
    body = "Resources: {}\n# Location: s3://bucket/lambdas/include/abc.json\n"
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        created(stubber, body=body)
        reason = "No updates are to be performed."
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response("describe_change_set", change_set("FAILED", reason))
        stubber.add_response(
            "delete_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )

        Stacks(client, say=print, poll=1).deploy(NAME, template, {}, body=body)

        stubber.assert_no_pending_responses()


def test_an_update_cloudformation_rolls_back_stops_with_the_first_failure(
    client: object, template: Path
) -> None:
    lines: list[str] = []
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        created(stubber)
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY]))
        stubber.add_response(
            "execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )
        # The waiter: a rollback is a terminal failure for stack_update_complete.
        stubber.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
        stubber.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
        soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=20)
        stubber.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    {
                        "StackId": STACK_ID,
                        "EventId": "2",
                        "StackName": NAME,
                        "LogicalResourceId": NAME,
                        "ResourceStatus": "UPDATE_ROLLBACK_COMPLETE",
                        "Timestamp": soon + datetime.timedelta(seconds=10),
                    },
                    {
                        "StackId": STACK_ID,
                        "EventId": "1",
                        "StackName": NAME,
                        "LogicalResourceId": "Service",
                        "ResourceType": "AWS::ECS::Service",
                        "ResourceStatus": "UPDATE_FAILED",
                        "ResourceStatusReason": "Error occurred during operation "
                        "'ECS Deployment Circuit Breaker was triggered'.",
                        "Timestamp": soon,
                    },
                ]
            },
        )

        with pytest.raises(DeployError) as failure:
            Stacks(client, say=lines.append, poll=1).deploy(NAME, template, {})

        stubber.assert_no_pending_responses()
    message = str(failure.value)
    assert message.startswith(f"stack {NAME}: update failed: Service: Error occurred")
    assert "Circuit Breaker was triggered" in message
    assert message.endswith(
        "CloudFormation rolled the stack back: the previous version keeps running"
    )
    # What the change set was going to do was printed before it ran.
    assert "    Modify  TaskDefinition (AWS::ECS::TaskDefinition) REPLACED" in lines


def test_a_dry_run_on_a_new_stack_creates_no_change_set(client: object, template: Path) -> None:
    lines: list[str] = []
    template.write_text("Resources:\n  Repository: {Type: AWS::ECR::Repository}\n")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
        )

        result = Stacks(client, say=lines.append, poll=1).deploy(NAME, template, {}, dry_run=True)

        stubber.assert_no_pending_responses()  # and nothing else was called
    assert result.action == "planned"
    assert lines == [f"  {NAME}: would be created (1 resources, service.yaml)"]


def test_a_dry_run_on_a_stack_describes_its_change_set_then_deletes_it(
    client: object, template: Path
) -> None:
    lines: list[str] = []
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        created(stubber)
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY]))
        stubber.add_response(
            "delete_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )

        result = Stacks(client, say=lines.append, poll=1).deploy(NAME, template, {}, dry_run=True)

        stubber.assert_no_pending_responses()  # deleted, never executed
    assert result.action == "planned"
    assert lines == [
        f"  {NAME}: update, 1 resource change(s)",
        "    Modify  TaskDefinition (AWS::ECS::TaskDefinition) REPLACED",
    ]


def test_a_stack_without_an_output_the_deploy_needs_stops_it(client: object) -> None:
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_stacks",
            stack("UPDATE_COMPLETE", [{"OutputKey": "ClusterName", "OutputValue": "c"}]),
        )

        with pytest.raises(DeployError) as failure:
            Stacks(client, say=print).require_outputs(NAME, "ClusterName", "ServiceName")

    assert str(failure.value) == (
        f"stack {NAME} has no output ServiceName: was it deployed from this repository's template?"
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            "UPDATE_IN_PROGRESS",
            r"is UPDATE_IN_PROGRESS: another deploy \(or a rollback\) is running",
        ),
        ("ROLLBACK_COMPLETE", "failed to be created and was rolled back"),
    ],
)
def test_a_stack_that_cannot_take_a_change_set_now_stops_the_deploy_first(
    client: object, template: Path, status: str, message: str
) -> None:
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack(status))

        with pytest.raises(DeployError, match=message):
            Stacks(client, say=print).deploy(NAME, template, {})

        stubber.assert_no_pending_responses()  # no change set was created


def test_a_stack_whose_creation_fails_says_to_delete_it(client: object, template: Path) -> None:
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
        )
        created(stubber, "CREATE")
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
        stubber.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
        stubber.add_response(
            "execute_change_set", {}, {"ChangeSetName": CHANGE_SET, "StackName": NAME}
        )
        stubber.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))  # the waiter
        stubber.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
        stubber.add_response("describe_stack_events", {"StackEvents": []})

        with pytest.raises(DeployError) as failure:
            Stacks(client, say=print, poll=1).deploy(NAME, template, {})

        stubber.assert_no_pending_responses()
    assert str(failure.value).endswith(
        f"the stack is ROLLBACK_COMPLETE and nothing ran from it yet: read its events, delete "
        f"it (aws cloudformation delete-stack --stack-name {NAME}) and deploy again"
    )


def test_a_template_too_large_to_send_inline_is_refused_before_any_change_set(
    client: object, template: Path
) -> None:
    template.write_text("Resources: {}\n" + "# padding\n" * 6000)
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"))

        with pytest.raises(DeployError, match="over CloudFormation's 51200 for a template"):
            Stacks(client, say=print).deploy(NAME, template, {})

        stubber.assert_no_pending_responses()


def test_every_template_is_small_enough_to_send_inline() -> None:
    sizes = {t.name: len(t.read_bytes()) for t in TEMPLATES.glob("*.yaml")}

    assert sizes
    assert {name: size for name, size in sizes.items() if size > TEMPLATE_BODY_LIMIT} == {}
