"""No IAM policy in the templates grants more than its component needs.

cfn-lint does not look at what a policy allows, and checkov passes many broad
statements; this reads every identity policy (roles' inline policies, IAM
policies, managed policies attached to roles) in every template, SAM ones as
SAM expands them, and fails on:

- a ``*`` action, a whole-service action (``dynamodb:*``) or another wildcard
  action not in :data:`WILDCARD_ACTIONS`;
- ``NotAction`` or ``NotResource`` (they grant everything else);
- ``Resource: "*"`` unless every action of the statement is one that has no
  resource-level permissions (:data:`ACTIONS_WITHOUT_RESOURCES`);
- a resource ARN that names a whole service (``table/*``, ``arn:aws:s3:::*``) or
  any account;
- a managed policy attached to a role (AWS's own are broad: AWSLambdaBasicExecutionRole
  allows logs on ``*``).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ecs import cfn

pytestmark = pytest.mark.no_dynamodb

# Actions IAM cannot limit to a resource: "*" is the only resource they accept.
ACTIONS_WITHOUT_RESOURCES = {
    "ecr:GetAuthorizationToken": "a registry login token is account-wide",
    "cloudwatch:PutMetricData": "metrics have no ARN (narrow with cloudwatch:namespace)",
    "xray:PutTraceSegments": "X-Ray traces have no ARN",
    "xray:PutTelemetryRecords": "X-Ray telemetry has no ARN",
    "xray:GetSamplingRules": "read by the X-Ray SDK; no ARN",
    "xray:GetSamplingTargets": "read by the X-Ray SDK; no ARN",
    # The deploying role's (ecs/deploy-policy.json): the migrate run's task definition.
    "ecs:DescribeTaskDefinition": "IAM takes no task-definition ARN for it",
    "ecs:RegisterTaskDefinition": "a revision has no ARN before it exists",
    "ecs:DeregisterTaskDefinition": "IAM takes no task-definition ARN for it",
}
# Wildcard actions allowed anyway, each for a reason.
WILDCARD_ACTIONS = {
    "xray:Put*": "only PutTraceSegments and PutTelemetryRecords, both without resources",
}
# Managed policies a role may carry: none. Write the statements inline instead.
ALLOWED_MANAGED_POLICIES: dict[str, str] = {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> Iterator[dict[str, Any]]:
    """Yield every statement of a policy document, both branches of an Fn::If."""
    for statement in _as_list(document.get("Statement", [])):
        if isinstance(statement, dict) and "Fn::If" in statement:
            for branch in statement["Fn::If"][1:]:
                if branch != {"Ref": "AWS::NoValue"}:
                    yield branch
        else:
            yield statement


def identity_statements(tpl: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, statement) for every identity-policy statement of a template."""
    for name, role in cfn.resources(tpl, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                yield f"{name}/{policy['PolicyName']}", statement
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, policy in cfn.resources(tpl, kind).items():
            for statement in _statements(policy["Properties"]["PolicyDocument"]):
                yield name, statement


def _resource_text(resource: Any) -> str:
    """Return an ARN as text: the template of an Fn::Sub, the pieces of an Fn::Join."""
    if isinstance(resource, str):
        return resource
    if "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    if "Fn::Join" in resource:
        return "".join(p if isinstance(p, str) else "${x}" for p in resource["Fn::Join"][1])
    return "${resolved}"  # Ref / GetAtt of a resource: exactly that resource


# The resource part of an ARN that names no particular resource: "*", "table/*", ...
_ANY_RESOURCE = re.compile(r"^(?:[A-Za-z-]+[/:])?\*$")


def statement_problems(statement: dict[str, Any]) -> list[str]:
    """Return what is over-broad in one statement (empty when it is fine)."""
    if statement.get("Effect") != "Allow":
        return []
    problems = [f"uses {key}" for key in ("NotAction", "NotResource") if key in statement]
    actions = [str(a) for a in _as_list(statement.get("Action", []))]
    for action in actions:
        if action == "*" or action.endswith(":*"):
            problems.append(f"action {action!r} grants a whole service")
        elif "*" in action and action not in WILDCARD_ACTIONS:
            problems.append(f"wildcard action {action!r}")
    for resource in _as_list(statement.get("Resource", [])):
        text = _resource_text(resource)
        if text == "*":
            allowed = ACTIONS_WITHOUT_RESOURCES.keys() | WILDCARD_ACTIONS.keys()
            broad = [action for action in actions if action not in allowed]
            if broad:
                problems.append(f"Resource '*' for {broad}, which accept narrower resources")
            continue
        # ${AWS::Region} and friends hold colons: name each substitution by a plain word.
        parts = re.sub(r"\$\{[^}]*\}", "sub", text).split(":", 5)
        if len(parts) == 6 and text.startswith("arn:"):
            if parts[4] == "*":
                problems.append(f"resource {text!r} is in any account")
            if _ANY_RESOURCE.match(parts[5]):
                problems.append(f"resource {text!r} names every resource of its service")
    return problems


TEMPLATES = list(cfn.deployable_templates())


@pytest.mark.parametrize(("name", "tpl"), TEMPLATES, ids=[name for name, _ in TEMPLATES])
def test_every_identity_policy_names_its_actions_and_resources(
    name: str, tpl: dict[str, Any]
) -> None:
    problems = [
        f"{where}: {problem}"
        for where, statement in identity_statements(tpl)
        for problem in statement_problems(statement)
    ]
    assert problems == [], f"{name}: over-broad IAM statements:\n" + "\n".join(problems)


@pytest.mark.parametrize(("name", "tpl"), TEMPLATES, ids=[name for name, _ in TEMPLATES])
def test_roles_carry_no_managed_policy(name: str, tpl: dict[str, Any]) -> None:
    attached = {
        role_name: arn
        for role_name, role in cfn.resources(tpl, "AWS::IAM::Role").items()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
        if _resource_text(arn).rsplit("/", 1)[-1] not in ALLOWED_MANAGED_POLICIES
    }
    assert attached == {}, f"{name}: managed policies are broader than the component"


def test_the_templates_have_identity_policies_to_check() -> None:
    """Guard the guard: an empty walk would pass everything."""
    counted = {name: len(list(identity_statements(tpl))) for name, tpl in TEMPLATES}
    assert counted["service.yaml"] >= 8
    assert counted["lambdas.yaml (expanded)"] >= 9


def test_each_component_has_a_role_of_its_own() -> None:
    service = cfn.template("service.yaml")
    task_roles = [
        definition["Properties"]["TaskRoleArn"]
        for definition in cfn.resources(service, "AWS::ECS::TaskDefinition").values()
    ]
    lambdas = dict(TEMPLATES)["lambdas.yaml (expanded)"]
    function_roles = [
        function["Properties"]["Role"]
        for function in cfn.resources(lambdas, "AWS::Lambda::Function").values()
    ]
    assert len(task_roles) == len({str(r) for r in task_roles}) == 2
    assert (
        len(function_roles) == len({str(r) for r in function_roles}) == 4
    )  # submit, worker, worker-failed, sweep


def test_the_web_task_role_reaches_only_its_own_tables_bucket_prefixes_and_api() -> None:
    role = cfn.resources(cfn.template("service.yaml"), "AWS::IAM::Role")["TaskRole"]
    statements = list(_statements(role["Properties"]["Policies"][0]["PolicyDocument"]))
    resources = {
        _resource_text(resource)
        for statement in statements
        for resource in _as_list(statement["Resource"])
    }
    prefix = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TablePrefix}"
    assert resources == {
        f"{prefix}*",
        f"{prefix}*/index/*",
        "arn:${AWS::Partition}:s3:::${MediaBucketName}/media/*",
        "arn:${AWS::Partition}:s3:::${MediaBucketName}/exports/*",
        "arn:${AWS::Partition}:s3:::${MediaBucketName}/imports/*",
        "arn:${AWS::Partition}:s3:::${MediaBucketName}",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        "${JobsApiId}/${JobsApiStage}/*/jobs*",
    }


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}, "Resource '*'"),
        ({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "arn:aws:x"}, "whole service"),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:x"}, "whole service"),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:x"}, "wildcard action"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:x"}, "NotAction"),
        (
            {
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"],
                "Resource": "*",
            },
            "ecr:BatchGetImage",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/x"},
            },
            "any account",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "arn:aws:dynamodb:${AWS::Region}:${Acct}:table/*"},
            },
            "every resource",
        ),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}, "every"),
    ],
)
def test_the_check_flags_over_broad_statements(statement: dict[str, Any], expected: str) -> None:
    assert any(expected in problem for problem in statement_problems(statement))


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["xray:Put*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "Resource": {"Fn::Sub": "arn:aws:dynamodb:eu-west-1:1:table/${TablePrefix}*/index/*"},
        },
        {
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": {"Fn::GetAtt": ["G", "Arn"]},
        },
    ],
)
def test_the_check_accepts_narrow_statements(statement: dict[str, Any]) -> None:
    assert statement_problems(statement) == []


def test_the_deploying_roles_policy_is_as_narrow_as_the_templates_roles() -> None:
    """ecs/deploy-policy.json, for the role that runs make deploy (CI's OIDC role)."""
    document = json.loads((cfn.ROOT / "ecs" / "deploy-policy.json").read_text())
    statements = list(_statements(document))

    problems = {
        statement.get("Sid", "?"): statement_problems(statement) for statement in statements
    }

    assert statements
    assert {sid: found for sid, found in problems.items() if found} == {}
    passed = [s for s in statements if "iam:PassRole" in _as_list(s["Action"])]
    assert passed
    assert all("iam:PassedToService" in s["Condition"]["StringEquals"] for s in passed)


def test_the_worker_touches_avatars_only_under_their_prefixes_and_attributes() -> None:
    role = cfn.resources(cfn.template("lambdas.yaml"), "AWS::IAM::Role")["WorkerRole"]
    statements = {
        statement["Sid"]: statement
        for statement in _statements(role["Properties"]["Policies"][0]["PolicyDocument"])
    }
    bucket = "arn:${AWS::Partition}:s3:::${MediaBucketName}"
    objects = statements["AvatarObjects"]
    assert {_resource_text(r) for r in _as_list(objects["Resource"])} == {
        f"{bucket}/media/avatar-uploads/*",
        f"{bucket}/media/avatars/*",
    }
    owner = statements["AvatarOwner"]
    assert _resource_text(owner["Resource"]).endswith(":table/${TablePrefix}users")
    # The users table holds password hashes: only the avatar's attributes, never ALL_OLD.
    condition = owner["Condition"]
    assert condition["ForAllValues:StringEquals"]["dynamodb:Attributes"] == [
        "id",
        "avatar",
        "avatar_pending",
    ]
    assert "ALL_OLD" not in condition["StringEqualsIfExists"]["dynamodb:ReturnValues"]


def test_the_worker_reads_only_listed_attributes_of_the_users_table() -> None:
    """The users table holds password hashes: every read of it the worker may make names its
    attributes (IAM allows what any statement allows, so one unconditioned GetItem undoes
    the others' conditions)."""
    role = cfn.resources(cfn.template("lambdas.yaml"), "AWS::IAM::Role")["WorkerRole"]
    reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"}
    on_users = [
        statement
        for statement in _statements(role["Properties"]["Policies"][0]["PolicyDocument"])
        if reads & set(_as_list(statement["Action"]))
        and any(
            _resource_text(r).endswith(":table/${TablePrefix}users")
            for r in _as_list(statement["Resource"])
        )
    ]

    assert on_users
    for statement in on_users:
        attributes = statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        assert "password" not in attributes, statement["Sid"]
        assert statement["Condition"]["StringEqualsIfExists"]["dynamodb:Select"] == (
            "SPECIFIC_ATTRIBUTES"
        ), statement["Sid"]
