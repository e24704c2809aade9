"""A moto server for the deploy program's tests, closer to AWS where the deploy program looks.

    python -m tests.deploy.motoserver --port PORT --exit-codes FILE

moto 5.2.5 differs from AWS in six places the deploy program depends on; this
process starts moto's own server after correcting them, a few lines each:

1. ``ExecuteChangeSet`` never rebuilds the stack's outputs, so ``DescribeStacks``
   returns none for a stack made or changed through a change set (AWS returns them),
   and never records the new parameters, so the next identical change set is not
   recognised as "no changes".
2. Updating an ``AWS::ECS::TaskDefinition`` through CloudFormation registers a
   revision whose containers lost their ``name`` and ``image`` (the template's
   PascalCase keys are not converted as they are on create).
3. A resource that refers to a resource CloudFormation replaced (the service to
   its new task definition revision) is not updated with it when only parameters
   changed, so the service never moves to a new image.
4. ``Fn::GetAtt`` of a load balancer's ``LoadBalancerFullName`` and a target
   group's ``TargetGroupFullName`` are not implemented: the stack loses all outputs.
5. ``RunTask`` fails (HTTP 500) on a Fargate task definition whose containers set
   no memory of their own (AWS takes the task's memory then).
6. Every task's container exits 0. ``--exit-codes`` names a JSON file mapping a
   task definition family to the exit code its tasks' containers report, read
   when a task starts, so a test can make the one-off migrate task fail.

``MOTO_ECS_SERVICE_RUNNING`` must be set in this process's environment (moto reads
it here, not in the client) for ``services_stable`` to succeed.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs import models as ecs_models
from moto.elbv2 import models as elbv2_models
from moto.server import ThreadedMotoServer


def _patch_change_set_outputs() -> None:
    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        execute(self, change_set_name, stack_name)
        for change_set in self.change_sets.values():
            if change_set_name in (change_set.change_set_id, change_set.change_set_name):
                self.stacks[change_set.stack_id].parameters = change_set.parameters
        for stack in self.stacks.values():
            if stack.template:  # moto sets the template but leaves the parsed one stale
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = execute_change_set


def _patch_task_definition_update() -> None:
    update = ecs_models.TaskDefinition.update_from_cloudformation_json.__func__

    def update_from_cloudformation_json(cls: Any, **kwargs: Any) -> Any:
        cfn = kwargs["cloudformation_json"]
        properties = dict(cfn["Properties"])
        properties["ContainerDefinitions"] = remap_nested_keys(
            properties.get("ContainerDefinitions", []), pascal_to_camelcase
        )
        return update(cls, **{**kwargs, "cloudformation_json": {**cfn, "Properties": properties}})

    ecs_models.TaskDefinition.update_from_cloudformation_json = classmethod(
        update_from_cloudformation_json
    )


def _patch_dependents_follow() -> None:
    diff = parsing.ResourceMap.build_resource_diff

    def build_resource_diff(self: Any, other_template: dict, parameters: Any = None) -> dict:
        names = diff(self, other_template, parameters)
        resources = other_template["Resources"]
        changed = True
        while changed:  # what refers to a modified resource is modified too
            changed = False
            for name, body in resources.items():
                if name in names["Modify"] or name in names["Add"]:
                    continue
                if set(parsing.get_references_from_template(body)) & set(names["Modify"]):
                    names["Modify"].append(name)
                    changed = True
        return names

    parsing.ResourceMap.build_resource_diff = build_resource_diff


def _patch_full_names() -> None:
    balancer_attribute = elbv2_models.FakeLoadBalancer.get_cfn_attribute

    def balancer(self: Any, attribute_name: str) -> Any:
        if attribute_name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        return balancer_attribute(self, attribute_name)

    def target_group(self: Any, attribute_name: str) -> Any:
        if attribute_name == "TargetGroupFullName":
            return self.arn.rsplit(":", 1)[1]
        raise AttributeError(attribute_name)

    elbv2_models.FakeLoadBalancer.get_cfn_attribute = balancer
    elbv2_models.FakeTargetGroup.get_cfn_attribute = target_group
    elbv2_models.FakeTargetGroup.has_cfn_attr = classmethod(
        lambda cls, attr: attr == "TargetGroupFullName"
    )


def _patch_container_memory() -> None:
    calculate = ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements
    keys = ("memory", "memoryReservation", "Memory", "MemoryReservation")

    def with_task_memory(task_definition: Any) -> Any:
        saved = task_definition.container_definitions
        task_definition.container_definitions = [
            c if any(key in c for key in keys) else {**c, "memory": 0} for c in saved
        ]
        try:
            return calculate(task_definition)
        finally:
            task_definition.container_definitions = saved

    ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(
        with_task_memory
    )


def _patch_exit_codes(path: Path) -> None:
    init = ecs_models.Container.__init__

    def container_init(self: Any, task_def: Any) -> None:
        init(self, task_def)
        codes = json.loads(path.read_text()) if path.exists() else {}
        self.exitCode = codes.get(task_def.family, 0)

    ecs_models.Container.__init__ = container_init


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--exit-codes", type=Path, required=True)
    args = parser.parse_args(argv)
    _patch_change_set_outputs()
    _patch_task_definition_update()
    _patch_dependents_follow()
    _patch_full_names()
    _patch_container_memory()
    _patch_exit_codes(args.exit_codes)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port)
    server.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or kills us)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
