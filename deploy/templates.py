"""Read what a CloudFormation template declares (its parameters and outputs)."""

from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping CloudFormation's short-form tags as plain values."""


def _any_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_Loader.add_multi_constructor("!", _any_tag)


def read(template: Path) -> dict[str, Any]:
    """Return the template as a dictionary."""
    return yaml.load(template.read_text(), Loader=_Loader)  # noqa: S506 - a safe loader


def declared_parameters(template: Path) -> set[str]:
    """Return the names of the template's parameters."""
    return set(read(template).get("Parameters") or {})


def required_parameters(template: Path) -> set[str]:
    """Return the names of the template's parameters that have no default."""
    parameters = read(template).get("Parameters") or {}
    return {name for name, spec in parameters.items() if "Default" not in (spec or {})}


def declared_outputs(template: Path) -> set[str]:
    """Return the names of the template's outputs."""
    return set(read(template).get("Outputs") or {})
