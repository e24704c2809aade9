"""The ECS side of a deploy: the one-off migrate task, and the service's rollout.

``manage.py migrate --noinput`` runs before the web service changes: its task
definition is the service stack's migrate definition with the new image (a
revision registered for this run and deregistered after it), in the tasks'
subnets and security group. A non-zero exit stops the deploy with the place of
its logs; the service has not been touched then.
"""

import time
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from deploy.errors import DeployError

_COPIED = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
    "ephemeralStorage",
)


def _waiter_config(poll: float, timeout: float) -> dict[str, int]:
    delay = max(1, int(poll))
    return {"Delay": delay, "MaxAttempts": max(1, int(timeout // delay))}


def register_with_image(ecs: Any, task_definition: str, image: str) -> str:
    """Register a revision of ``task_definition`` whose containers run ``image``; return its ARN."""
    try:
        current = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    except ClientError as exc:
        raise DeployError(f"cannot read task definition {task_definition}: {exc}") from exc
    request = {key: current[key] for key in _COPIED if current.get(key)}
    request["containerDefinitions"] = [
        {**container, "image": image} for container in current["containerDefinitions"]
    ]
    try:
        registered = ecs.register_task_definition(**request)["taskDefinition"]
    except ClientError as exc:
        raise DeployError(f"cannot register the migrate task definition: {exc}") from exc
    return registered["taskDefinitionArn"]


def run_migrate(
    ecs: Any,
    *,
    cluster: str,
    task_definition: str,
    subnets: list[str],
    security_groups: list[str],
    log_group: str,
    region: str,
    poll: float,
    timeout: float,
    say: Any,
) -> None:
    """Run the migrate task to its end; stop the deploy unless its container exited 0."""
    started = time.time()
    try:
        response = ecs.run_task(
            cluster=cluster,
            taskDefinition=task_definition,
            launchType="FARGATE",
            count=1,
            startedBy="nebula-deploy",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": subnets,
                    "securityGroups": security_groups,
                    "assignPublicIp": "DISABLED",
                }
            },
        )
    except ClientError as exc:
        raise DeployError(f"migrate: cannot start the task: {exc}") from exc
    if response.get("failures") or not response.get("tasks"):
        raise DeployError(f"migrate: ECS did not start the task: {response.get('failures')}")
    task_arn = response["tasks"][0]["taskArn"]
    task_id = task_arn.rsplit("/", 1)[-1]
    say(f"  migrate: task {task_id} started, waiting for it to finish")
    logs = (
        f"log group {log_group}, stream migrate/migrate/{task_id} "
        f"(aws logs tail {log_group} --log-stream-name-prefix migrate/migrate/{task_id} "
        f"--region {region})"
    )
    try:
        ecs.get_waiter("tasks_stopped").wait(
            cluster=cluster, tasks=[task_arn], WaiterConfig=_waiter_config(poll, timeout)
        )
    except WaiterError as exc:
        raise DeployError(
            f"migrate: task {task_id} did not finish within {timeout:.0f} s; the service was not "
            f"changed. Its logs: {logs}"
        ) from exc
    [task] = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
    container = next(
        (c for c in task.get("containers") or [] if c.get("name") == "migrate"),
        (task.get("containers") or [{}])[0],
    )
    code = container.get("exitCode")
    if code != 0:
        why = f"exited with status {code}" if code is not None else "never ran"
        reason = container.get("reason") or task.get("stoppedReason") or ""
        raise DeployError(
            f"migrate: manage.py migrate {why}{f' ({reason})' if reason else ''}; the service "
            f"was not changed and the previous version keeps serving. Its logs: {logs}"
        )
    say(f"  migrate: done in {time.time() - started:.0f} s (exit status 0)")


def wait_until_stable(
    ecs: Any, *, cluster: str, service: str, poll: float, timeout: float
) -> dict[str, Any]:
    """Wait for the service to be stable (``services_stable``); return it."""
    try:
        ecs.get_waiter("services_stable").wait(
            cluster=cluster, services=[service], WaiterConfig=_waiter_config(poll, timeout)
        )
    except WaiterError as exc:
        raise DeployError(
            f"service {service} did not become stable within {timeout:.0f} s; the deployment "
            "circuit breaker rolls a failing deployment back to the previous task definition. "
            f"See: aws ecs describe-services --cluster {cluster} --services {service}"
        ) from exc
    [found] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    return found


def service_image(ecs: Any, service: dict[str, Any]) -> tuple[str, str]:
    """Return the service's task definition ARN and the image of its first container."""
    task_definition = service["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return task_definition, described["containerDefinitions"][0].get("image", "")


def current_image(ecs: Any, *, cluster: str, service: str) -> str | None:
    """Return the image the service runs now, or None if there is no such service."""
    try:
        found = ecs.describe_services(cluster=cluster, services=[service])["services"]
    except ClientError:
        return None
    if not found or found[0].get("status") != "ACTIVE":
        return None
    return service_image(ecs, found[0])[1]
