"""Every EMF line the handlers print meets the Embedded Metric Format specification.

The schema follows the public EMF specification: a root ``_aws`` object with an
integer ``Timestamp`` and ``CloudWatchMetrics`` directives, each with a ``Namespace``,
``Dimensions`` (arrays of at most 30 names) and at most 100 ``Metrics`` whose
``Unit`` is a CloudWatch unit; then every dimension named must be a string at the
root, and every metric's value a number or an array of 1 to 100 numbers there.
"""

import json
from typing import Any

import jsonschema
import pytest

from datalayer.jobs import JobKind, job_create
from lambdas import submit, sweep, worker
from lambdas.observability import NAMESPACE
from lambdas.work import JobError
from local.gateway import LambdaContext, failure_record

CLOUDWATCH_UNITS = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]  # fmt: skip

EMF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 1024,
                                        },
                                        "Unit": {"enum": CLOUDWATCH_UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def emf_problems(line: dict[str, Any]) -> list[str]:
    """Return what is wrong with one EMF event (nothing: it is valid)."""
    validator = jsonschema.Draft202012Validator(EMF_SCHEMA)
    problems = [error.message for error in validator.iter_errors(line)]
    if problems:
        return problems
    if len(json.dumps(line).encode()) > 1024 * 1024:
        problems.append("event larger than 1 MB")
    for directive in line["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                if not isinstance(line.get(name), str):
                    problems.append(f"dimension {name!r} missing or not a string at root")
        for metric in directive["Metrics"]:
            value = line.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            if not values or len(values) > 100 or not numeric:
                problems.append(f"metric {metric['Name']!r} value missing or not numeric")
    return problems


def _emf_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for raw in output.splitlines():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and "_aws" in data:
            lines.append(data)
    return lines


def _line(unit: str = "Count", dimensions=(("kind",),), **root: Any) -> dict[str, Any]:
    directive = {
        "Namespace": "Nebula",
        "Dimensions": [list(names) for names in dimensions],
        "Metrics": [{"Name": "Jobs", "Unit": unit}],
    }
    return {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [directive]}, **root}


def _without_namespace() -> dict[str, Any]:
    line = _line(kind="x", Jobs=1)
    del line["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    return line


def _text_timestamp() -> dict[str, Any]:
    line = _line(kind="x", Jobs=1)
    line["_aws"]["Timestamp"] = "2026-01-01"
    return line


@pytest.mark.no_dynamodb
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_line(kind="x", Jobs=1), None),
        (_line(unit="Jobs", kind="x", Jobs=1), "is not one of"),
        (_line(Jobs=1), "dimension 'kind' missing"),
        (_line(kind="x", Jobs="1"), "not numeric"),
        (_line(kind="x", Jobs=[]), "not numeric"),
        (_text_timestamp(), "is not of type 'integer'"),
        (_without_namespace(), "'Namespace' is a required property"),
    ],
)
def test_the_check_finds_what_the_specification_forbids(line, expected):
    problems = emf_problems(line)

    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems


class _Invocations(list):
    def __call__(self, payload: dict) -> None:
        self.append(payload)


def test_every_line_the_handlers_print_is_valid_emf(lambda_env, capsys):
    submit.use_worker_invoker(_Invocations())
    context = LambdaContext("nebula-test", 60, "eu-west-1")
    ok, _ = job_create(
        owner_id="d" * 32, kind=JobKind.AVATAR, params={}, idempotency_key="a", run_seconds=60
    )
    try:
        body = json.dumps({"job_id": ok.id, "kind": "avatar", "owner_id": ok.owner_id})
        submit.handler({"headers": {"Idempotency-Key": "key-emf-1"}, "body": body}, context)
        submit.handler({"headers": {}, "body": "{"}, context)
    finally:
        submit.use_worker_invoker(None)
    worker.handler({"job_id": ok.id, "kind": "avatar", "owner_id": ok.owner_id}, context)
    worker.on_failure(failure_record("nebula-worker", {"job_id": ok.id}, JobError("x"), 3), context)
    sweep.handler({}, context)

    lines = _emf_lines(capsys.readouterr().out)

    assert len(lines) >= 5
    for line in lines:
        assert emf_problems(line) == [], line
        assert {d["Namespace"] for d in line["_aws"]["CloudWatchMetrics"]} == {NAMESPACE}
    names = {
        m["Name"] for line in lines for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    assert {"JobsSubmitted", "RequestsRefused", "JobsStarted", "JobsFailed", "JobsSwept"} <= names
