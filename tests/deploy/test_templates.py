"""The deploy tests' stand-in templates declare what the real ones declare."""

import pytest

from deploy.config import COMPUTED, ROOT, STACKS, TEMPLATES, load_parameters
from deploy.templates import declared_outputs, declared_parameters, required_parameters
from tests.deploy.conftest import STANDINS


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("stack", ["alarms", "lambdas"])
def test_a_stand_in_template_has_the_real_templates_parameters_and_outputs(stack: str) -> None:
    real, standin = TEMPLATES / f"{stack}.yaml", STANDINS / f"{stack}.yaml"
    assert declared_parameters(standin) == declared_parameters(real)
    assert declared_outputs(standin) == declared_outputs(real)


@pytest.mark.no_dynamodb
def test_the_example_parameters_file_sets_what_the_templates_need_and_nothing_else() -> None:
    example = load_parameters(ROOT / "ecs" / "environments" / "example.json")
    declared = set().union(*(declared_parameters(TEMPLATES / f"{s}.yaml") for s in STACKS))
    required = set().union(*(required_parameters(TEMPLATES / f"{s}.yaml") for s in STACKS))

    assert set(example) <= declared
    assert required - COMPUTED == set(example) - {"AlarmEmail"}
