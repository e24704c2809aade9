"""The jobs API's one definition, ``openapi.json`` beside this module, and what is read from it.

The submit function validates requests against the document's schemas; the local
gateway serves the routes it declares (``x-nebula-handler`` names the handler); the
API Gateway template imports it. Change the API here and nowhere else.
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("openapi.json")


@dataclass(frozen=True)
class Route:
    """One operation of the document."""

    method: str  # upper case
    path: str  # as declared, without the stage ("/jobs")
    operation_id: str
    handler: str  # "module.function"


@functools.cache
def document() -> dict[str, Any]:
    """Return the OpenAPI document, parsed once."""
    return json.loads(DOCUMENT.read_text())


def resolve(node: Any) -> Any:
    """Return ``node`` with every local ``$ref`` in it replaced by what it points to."""
    if isinstance(node, list):
        return [resolve(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target)
    return {key: resolve(value) for key, value in node.items()}


def operation(operation_id: str) -> dict[str, Any]:
    """Return the operation with this ``operationId``, every ``$ref`` resolved."""
    for methods in document()["paths"].values():
        for spec in methods.values():
            if spec.get("operationId") == operation_id:
                return resolve(spec)
    raise KeyError(operation_id)


def body_schema(operation_id: str) -> dict[str, Any]:
    """Return the JSON schema of the operation's ``application/json`` body."""
    return operation(operation_id)["requestBody"]["content"]["application/json"]["schema"]


def header_schemas(operation_id: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Return the operation's headers: lower-case name -> (required, schema)."""
    return {
        parameter["name"].lower(): (parameter.get("required", False), parameter["schema"])
        for parameter in operation(operation_id).get("parameters", [])
        if parameter["in"] == "header"
    }


def routes() -> list[Route]:
    """Return every operation of the document that names a handler."""
    found = []
    for path, methods in document()["paths"].items():
        for method, spec in methods.items():
            if "x-nebula-handler" in spec:
                found.append(
                    Route(method.upper(), path, spec["operationId"], spec["x-nebula-handler"])
                )
    return found


def stage() -> str:
    """Return the stage prefix of the document's server URL (``/v1``)."""
    return document()["servers"][0]["url"].rstrip("/")
