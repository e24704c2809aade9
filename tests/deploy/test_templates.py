"""The deploy tests' stand-in templates declare what the real ones declare."""

import pytest

from deploy.config import TEMPLATES
from deploy.templates import declared_outputs, declared_parameters
from tests.deploy.conftest import STANDINS


@pytest.mark.no_dynamodb
@pytest.mark.parametrize("stack", ["alarms", "lambdas"])
def test_a_stand_in_template_has_the_real_templates_parameters_and_outputs(stack: str) -> None:
    real, standin = TEMPLATES / f"{stack}.yaml", STANDINS / f"{stack}.yaml"
    assert declared_parameters(standin) == declared_parameters(real)
    assert declared_outputs(standin) == declared_outputs(real)
