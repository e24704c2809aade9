"""The jobs API is deployed from its one definition, ``lambdas/openapi.json``.

``lambdas.yaml`` includes the document as the API's ``DefinitionBody``
(``AWS::Include``); ``make iac-check`` inlines it as CloudFormation does and
expands the template with SAM (``ecs/.build/lambdas.json``). These tests read
that expansion, so they see what API Gateway would be given: the document itself,
every route signed (``AWS_IAM``), validated and wired to the function that runs
the handler the document names (the handler the local gateway runs too).
"""

import re
from typing import Any

import pytest

from lambdas import api
from tests.ecs import cfn

pytestmark = pytest.mark.no_dynamodb

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def expanded() -> dict[str, Any]:
    path = cfn.BUILD / "lambdas.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make iac-check` expands lambdas.yaml")
    return cfn.load(path)


@pytest.fixture(scope="module")
def rest_api(expanded) -> tuple[str, dict[str, Any]]:
    """Return the logical id and the resource of the template's one REST API."""
    ((name, resource),) = cfn.resources(expanded, "AWS::ApiGateway::RestApi").items()
    return name, resource


@pytest.fixture(scope="module")
def body(rest_api) -> dict[str, Any]:
    return rest_api[1]["Properties"]["Body"]


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): spec
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    }


def test_the_template_includes_the_api_document_instead_of_a_copy():
    (resource,) = cfn.resources(cfn.template("lambdas.yaml"), "AWS::Serverless::Api").values()

    include = resource["Properties"]["DefinitionBody"]["Fn::Transform"]
    assert include["Name"] == "AWS::Include"
    location = (cfn.TEMPLATES / include["Parameters"]["Location"]).resolve()
    assert location == api.DOCUMENT.resolve()


def test_the_deployed_api_is_the_document(body):
    # Equal as a whole, so the routes, methods, schemas and validators cannot drift.
    # Failing after a change to openapi.json: `make iac-check` expands it again.
    assert body == api.document()
    assert set(_operations(body)) == {(route.method, route.path) for route in api.routes()}


def test_every_route_requires_a_sigv4_signature(body):
    schemes = body["components"]["securitySchemes"]

    for key, operation in _operations(body).items():
        security = operation.get("security", body.get("security"))
        assert security, f"{key} has no security requirement"
        for requirement in security:
            for name in requirement:
                assert schemes[name].get("x-amazon-apigateway-authtype") == "awsSigv4", key


def test_every_route_validates_its_body_and_headers_at_the_gateway(body):
    validators = body["x-amazon-apigateway-request-validators"]

    for key, operation in _operations(body).items():
        name = operation.get(
            "x-amazon-apigateway-request-validator",
            body.get("x-amazon-apigateway-request-validator"),
        )
        assert name in validators, f"{key} has no request validator"
        assert validators[name] == {"validateRequestBody": True, "validateRequestParameters": True}
        if "requestBody" in operation:
            assert operation["requestBody"]["required"] is True, key


def _function_of(integration: dict[str, Any]) -> str:
    """Return the logical id of the function whose ARN the integration's URI names."""
    uri = integration["uri"]["Fn::Sub"]
    match = re.fullmatch(
        r"arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/"
        r"functions/\$\{(\w+)\.Arn\}/invocations",
        uri,
    )
    assert match, uri
    return match.group(1)


def test_every_route_runs_the_handler_the_document_names(expanded, rest_api, body):
    functions = cfn.resources(expanded, "AWS::Lambda::Function")
    permissions = cfn.resources(expanded, "AWS::Lambda::Permission").values()

    for (method, path), operation in _operations(body).items():
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert integration["httpMethod"] == "POST"  # Lambda is always invoked with POST
        function = _function_of(integration)
        assert functions[function]["Properties"]["Handler"] == operation["x-nebula-handler"]
        # API Gateway may call that function for this route (and the permission names it).
        allowed = [
            p["Properties"]["SourceArn"]["Fn::Sub"]
            for p in permissions
            if p["Properties"]["FunctionName"] == {"Ref": function}
            and p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        ]
        route = f"${{{rest_api[0]}}}/*/{method}{path}"
        assert any(arn.endswith(route) for arn in allowed), (method, path, allowed)
