"""Read the CloudFormation templates of ``ecs/templates/`` as plain dictionaries.

YAML short forms become their long forms (``!Sub x`` → ``{"Fn::Sub": x}``,
``!Ref x`` → ``{"Ref": x}``), as CloudFormation reads them. SAM templates are
read in their expanded form, written to ``ecs/.build/`` by ``make iac-check``
(``make test`` runs it first), so tests see the roles SAM generates too.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ecs" / "templates"
BUILD = ROOT / "ecs" / ".build"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, knowing CloudFormation's short-form tags."""


def _short_form(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_form)


def load(path: Path) -> dict[str, Any]:
    """Return one template (YAML or JSON) as a dictionary."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def template(name: str) -> dict[str, Any]:
    """Return ``ecs/templates/<name>`` as CloudFormation reads it."""
    return load(TEMPLATES / name)


def deployable_templates() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (name, template) for every template, SAM ones in their expanded form."""
    for path in sorted(TEMPLATES.glob("*.yaml")):
        if SAM_TRANSFORM in path.read_text():
            expanded = BUILD / f"{path.stem}.json"
            if not expanded.exists():
                pytest.fail(f"{expanded} is missing: `make iac-check` expands {path.name}")
            yield f"{path.name} (expanded)", load(expanded)
        else:
            yield path.name, load(path)


def resources(tpl: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Return the template's resources of one type, by logical id."""
    return {
        name: resource
        for name, resource in tpl.get("Resources", {}).items()
        if resource["Type"] == resource_type
    }
