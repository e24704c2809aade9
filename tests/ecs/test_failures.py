"""A job the worker gives up on is marked failed on AWS as it is locally.

The worker (``lambdas.worker.handler``) records every failure it can; what it cannot
(its invocation failed through Lambda's retries) reaches its on-failure destination,
which must be the function running ``lambdas.worker.on_failure`` (it fails the job),
as the local gateway wires it (``local/gateway.py``). What that function cannot
record in turn waits in the worker's dead-letter queue, which an alarm watches.
Read from the expanded template (``ecs/.build/lambdas.json``, ``make iac-check``).
"""

from typing import Any

import pytest

from local.gateway import FUNCTIONS
from tests.ecs import cfn

pytestmark = pytest.mark.no_dynamodb


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    path = cfn.BUILD / "lambdas.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make iac-check` expands lambdas.yaml")
    return cfn.load(path)["Resources"]


def _function_by_handler(resources: dict[str, Any], handler: str) -> str:
    [name] = [
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"] == handler
    ]
    return name


def _on_failure(resources: dict[str, Any], function: str) -> str:
    """Return the logical id of ``function``'s on-failure destination."""
    [config] = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig"
        and resource["Properties"]["FunctionName"] == {"Ref": function}
    ]
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination["Fn::GetAtt"][1] == "Arn"
    return destination["Fn::GetAtt"][0]


def test_the_worker_fails_to_the_function_that_marks_the_job_failed(resources):
    worker = _function_by_handler(resources, "lambdas.worker.handler")
    local = FUNCTIONS[FUNCTIONS["nebula-worker"].on_failure].handler

    destination = _on_failure(resources, worker)

    assert local == "lambdas.worker.on_failure"
    assert destination == _function_by_handler(resources, local)
    # The worker's role may invoke it (Lambda calls a destination as the function's role).
    role = resources[resources[worker]["Properties"]["Role"]["Fn::GetAtt"][0]]
    statements = [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert {
        "Sid": "FailureDestination",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": {"Fn::GetAtt": [destination, "Arn"]},
    } in statements


def test_what_the_failure_function_cannot_record_waits_in_a_watched_queue(resources):
    failed = _function_by_handler(resources, "lambdas.worker.on_failure")

    queue = _on_failure(resources, failed)

    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    alarm = resources["DeadLetterAlarm"]["Properties"]
    watched = [
        metric["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        for metric in alarm["Metrics"]
        if "MetricStat" in metric
    ]
    assert {"Fn::GetAtt": [queue, "QueueName"]} in watched
