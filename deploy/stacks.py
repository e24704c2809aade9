"""Create or update one CloudFormation stack through a change set, and read stack outputs.

A change set is created, waited for and described (what it changes is printed)
before anything is executed. "No changes" is not an error: AWS answers it with a
FAILED change set whose reason says so; that change set is deleted and the stack
is left alone. Any other failed change set is deleted too, and the deploy stops.
A failed execution is rolled back by CloudFormation itself (the previous
resources keep running); the deploy stops with the first failure event's reason.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from deploy.errors import DeployError
from deploy.templates import read as read_template

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
TEMPLATE_BODY_LIMIT = 51_200  # bytes; a larger template must come from S3 (TemplateURL)
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_FAILED_EVENT = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


@dataclass
class StackResult:
    """What happened to one stack: ``created``, ``updated``, ``unchanged`` or ``planned``."""

    name: str
    action: str
    changes: list[str] = field(default_factory=list)


def _waiter_config(poll: float, timeout: float) -> dict[str, int]:
    delay = max(1, int(poll))
    return {"Delay": delay, "MaxAttempts": max(1, int(timeout // delay))}


class Stacks:
    """The CloudFormation side of a deploy, on one boto3 client."""

    def __init__(
        self,
        client: Any,
        *,
        say: Callable[[str], None],
        poll: float = 6.0,
        timeout: float = 3600.0,
        role_arn: str | None = None,
    ) -> None:
        self.client = client
        # The role CloudFormation acts as (it creates the resources), if not the caller.
        self.role_arn = role_arn
        self.say = say
        self.poll = poll
        self.timeout = timeout

    def describe(self, name: str) -> dict[str, Any] | None:
        """Return the stack, or None if there is none (or only a never-executed one)."""
        try:
            [stack] = self.client.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise DeployError(f"cannot read stack {name}: {exc}") from exc
        if stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            return None
        return stack

    def outputs(self, name: str) -> dict[str, str]:
        """Return the stack's outputs by key, or {} if the stack does not exist."""
        stack = self.describe(name)
        if stack is None:
            return {}
        return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs") or []}

    def parameter(self, name: str, key: str) -> str | None:
        """Return the value a deployed stack has for one of its parameters."""
        stack = self.describe(name)
        for item in (stack or {}).get("Parameters") or []:
            if item["ParameterKey"] == key:
                return item.get("ResolvedValue") or item.get("ParameterValue")
        return None

    def require_outputs(self, name: str, *keys: str) -> dict[str, str]:
        """Return the stack's outputs; stop if one of ``keys`` is missing."""
        outputs = self.outputs(name)
        missing = [key for key in keys if not outputs.get(key)]
        if missing:
            raise DeployError(
                f"stack {name} has no output {', '.join(missing)}: "
                "was it deployed from this repository's template?"
            )
        return outputs

    def deploy(
        self,
        name: str,
        template: Path,
        parameters: dict[str, str],
        *,
        dry_run: bool = False,
        body: str | None = None,
    ) -> StackResult:
        """Bring stack ``name`` to ``template`` with ``parameters`` through a change set.

        ``body`` is the text to send instead of the file's (the template with its
        includes pointed at their S3 copies, ``deploy.includes``).
        """
        current = self.describe(name)
        exists = current is not None
        status = (current or {}).get("StackStatus", "")
        if status.endswith("_IN_PROGRESS"):
            raise DeployError(
                f"stack {name} is {status}: another deploy (or a rollback) is running; "
                "wait for it to finish, then deploy again"
            )
        if status == "ROLLBACK_COMPLETE":
            raise DeployError(
                f"stack {name} failed to be created and was rolled back (ROLLBACK_COMPLETE), "
                f"so it cannot be updated: read its events, delete it (aws cloudformation "
                f"delete-stack --stack-name {name}) and deploy again"
            )
        if dry_run and not exists:
            # A CREATE change set would leave an empty stack behind, and deleting it would
            # need cloudformation:DeleteStack, which the deploy role does not get.
            resources = read_template(template).get("Resources") or {}
            self.say(f"  {name}: would be created ({len(resources)} resources, {template.name})")
            return StackResult(name, "planned")
        body = template.read_text() if body is None else body
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise DeployError(
                f"template {template} is {len(body.encode())} bytes, over CloudFormation's "
                f"{TEMPLATE_BODY_LIMIT} for a template sent inline: shorten it or split the stack"
            )
        kind = "UPDATE" if exists else "CREATE"
        change_set = (
            f"deploy-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        )
        try:
            created = self.client.create_change_set(
                StackName=name,
                ChangeSetName=change_set,
                ChangeSetType=kind,
                TemplateBody=body,
                Parameters=[
                    {"ParameterKey": key, "ParameterValue": value}
                    for key, value in sorted(parameters.items())
                ],
                Capabilities=CAPABILITIES,
                Tags=[{"Key": "nebula:stack", "Value": name}],
                **({"RoleARN": self.role_arn} if self.role_arn else {}),
            )
        except ClientError as exc:
            raise DeployError(
                f"stack {name}: CloudFormation refused the change set: {exc}"
            ) from exc
        change_set_id = created["Id"]
        description = self._wait_for_change_set(name, change_set_id)
        if description is None:
            self._discard(name, change_set_id)
            self.say(f"  {name}: no changes")
            return StackResult(name, "unchanged")
        changes = [_describe_change(change) for change in description.get("Changes") or []]
        verb = "create" if kind == "CREATE" else "update"
        self.say(f"  {name}: {verb}, {len(changes)} resource change(s)")
        for line in changes:
            self.say(f"    {line}")
        for line in _parameter_changes(current, parameters):
            self.say(f"    {line}")
        if dry_run:
            self._discard(name, change_set_id)
            return StackResult(name, "planned", changes)
        self._execute(name, change_set_id, kind)
        return StackResult(name, "created" if kind == "CREATE" else "updated", changes)

    def _wait_for_change_set(self, name: str, change_set_id: str) -> dict[str, Any] | None:
        """Wait until the change set is ready; return its description, None for "no changes"."""
        waiter = self.client.get_waiter("change_set_create_complete")
        try:
            waiter.wait(
                ChangeSetName=change_set_id,
                StackName=name,
                WaiterConfig=_waiter_config(min(self.poll, 5), 600),
            )
        except WaiterError as exc:
            description = self.client.describe_change_set(
                ChangeSetName=change_set_id, StackName=name
            )
            reason = description.get("StatusReason") or str(exc)
            if description.get("Status") == "FAILED" and any(s in reason for s in _NO_CHANGES):
                return None
            self._discard(name, change_set_id)
            raise DeployError(
                f"stack {name}: the change set failed: {reason} (deleted; nothing was changed)"
            ) from exc
        description = self.client.describe_change_set(ChangeSetName=change_set_id, StackName=name)
        pages = [description]
        while description.get("NextToken"):
            description = self.client.describe_change_set(
                ChangeSetName=change_set_id, StackName=name, NextToken=description["NextToken"]
            )
            pages.append(description)
        first = pages[0]
        first["Changes"] = [change for page in pages for change in page.get("Changes") or []]
        return first

    def _discard(self, name: str, change_set_id: str) -> None:
        """Delete a change set that will not run.

        A failed CREATE change set leaves its stack in REVIEW_IN_PROGRESS, without
        resources: the next deploy's change set reuses it (``describe`` reports no stack).
        """
        try:
            self.client.delete_change_set(ChangeSetName=change_set_id, StackName=name)
        except ClientError as exc:
            self.say(f"  {name}: could not delete change set {change_set_id}: {exc}")

    def _execute(self, name: str, change_set_id: str, kind: str) -> None:
        started = time.time()
        try:
            self.client.execute_change_set(ChangeSetName=change_set_id, StackName=name)
        except ClientError as exc:
            raise DeployError(f"stack {name}: cannot execute the change set: {exc}") from exc
        waiter = self.client.get_waiter(f"stack_{kind.lower()}_complete")
        try:
            waiter.wait(StackName=name, WaiterConfig=_waiter_config(self.poll, self.timeout))
        except WaiterError as exc:
            status = (self.describe(name) or {}).get("StackStatus", "gone")
            reason = self._first_failure(name, since=started) or str(exc)
            if kind == "CREATE":
                outcome = (
                    f"the stack is {status} and nothing ran from it yet: read its events, "
                    f"delete it (aws cloudformation delete-stack --stack-name {name}) and "
                    "deploy again"
                )
            elif "ROLLBACK" in status:
                outcome = "CloudFormation rolled the stack back: the previous version keeps running"
            else:
                outcome = f"the stack is {status}"
            raise DeployError(f"stack {name}: {kind.lower()} failed: {reason}; {outcome}") from exc
        self.say(f"  {name}: {kind.lower()} complete in {time.time() - started:.0f} s")

    def _first_failure(self, name: str, *, since: float) -> str | None:
        """Return the first failed resource of this execution, as "Resource: reason"."""
        try:
            events = self.client.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return None
        failures = [
            event
            for event in events
            if event.get("ResourceStatus") in _FAILED_EVENT
            and event["Timestamp"].timestamp() >= since - 5
        ]
        if not failures:
            return None
        first = min(failures, key=lambda event: event["Timestamp"])
        return f"{first.get('LogicalResourceId')}: {first.get('ResourceStatusReason', '')}"


def _parameter_changes(stack: dict[str, Any] | None, parameters: dict[str, str]) -> list[str]:
    """One line per parameter whose value changes (none are secret: secrets go by ARN)."""
    if stack is None:
        return []
    before = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    return [
        f"parameter {key}: {before[key]!r} -> {value!r}"
        for key, value in sorted(parameters.items())
        if key in before and before[key] != value
    ]


def _describe_change(change: dict[str, Any]) -> str:
    """One line per resource change: action, logical id, type, replacement."""
    resource = change.get("ResourceChange") or {}
    line = (
        f"{resource.get('Action', '?'):<7} {resource.get('LogicalResourceId', '?')} "
        f"({resource.get('ResourceType', '?')})"
    )
    if resource.get("Replacement") == "True":
        line += " REPLACED"
    elif resource.get("Replacement") == "Conditional":
        line += " may be replaced"
    return line
