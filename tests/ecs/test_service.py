"""The web service stack keeps the promises docs/deploy.md makes about it.

Secrets reach the container only through the task definition's ``Secrets``; the
load balancer serves HTTPS and only redirects HTTP; health is ``/healthz`` for
the load balancer and the container; a failing deployment rolls back; the
service scales on CPU and on requests per task.
"""

import ast
import re
from typing import Any

import pytest

from tests.ecs import cfn

pytestmark = pytest.mark.no_dynamodb

SERVICE = cfn.template("service.yaml")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|^EMAIL_HOST_USER$")


def _one(resource_type: str) -> dict[str, Any]:
    (resource,) = cfn.resources(SERVICE, resource_type).values()
    return resource["Properties"]


def _containers() -> list[dict[str, Any]]:
    return [
        container
        for definition in cfn.resources(SERVICE, "AWS::ECS::TaskDefinition").values()
        for container in definition["Properties"]["ContainerDefinitions"]
    ]


def _web_container() -> dict[str, Any]:
    (web,) = [c for c in _containers() if c["Name"] == "web"]
    return web


def test_no_secret_is_a_plain_environment_value() -> None:
    plain = {
        variable["Name"]
        for container in _containers()
        for variable in container.get("Environment", [])
        if SECRET_NAME.search(variable["Name"])
    }
    assert plain == set()


def test_the_web_container_gets_its_secrets_from_secrets_manager() -> None:
    secrets = {s["Name"]: s["ValueFrom"] for s in _web_container()["Secrets"]}
    assert secrets == {
        "DJANGO_SECRET_KEY": {"Ref": "SecretKeySecretArn"},
        "NEBULA_OTP_ENCRYPTION_KEY": {"Ref": "OtpKeySecretArn"},
        "EMAIL_HOST_USER": {"Fn::Sub": "${SmtpSecretArn}:username::"},
        "EMAIL_HOST_PASSWORD": {"Fn::Sub": "${SmtpSecretArn}:password::"},
    }


def test_https_is_served_and_http_only_redirects_to_it() -> None:
    listeners = {
        props["Protocol"]: props
        for props in (
            listener["Properties"]
            for listener in cfn.resources(SERVICE, "AWS::ElasticLoadBalancingV2::Listener").values()
        )
    }
    assert listeners["HTTPS"]["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    (redirect,) = listeners["HTTP"]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"


def test_health_is_checked_on_healthz_by_the_load_balancer_and_the_container() -> None:
    assert _one("AWS::ElasticLoadBalancingV2::TargetGroup")["HealthCheckPath"] == "/healthz"
    command = " ".join(_web_container()["HealthCheck"]["Command"])
    assert "/healthz" in command


def test_a_failing_deployment_rolls_back() -> None:
    breaker = _one("AWS::ECS::Service")["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}


def test_the_service_scales_on_cpu_and_requests_per_task() -> None:
    metrics = {
        policy["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for policy in cfn.resources(SERVICE, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


def test_every_container_logs_to_a_log_group_with_a_retention() -> None:
    groups = cfn.resources(SERVICE, "AWS::Logs::LogGroup")
    for container in _containers():
        logs = container["LogConfiguration"]
        assert logs["LogDriver"] == "awslogs"
        group = logs["Options"]["awslogs-group"]["Ref"]
        assert "RetentionInDays" in groups[group]["Properties"]


def _production_required() -> set[str]:
    """Return production settings' REQUIRED names (importing them would refuse to start)."""
    source = (cfn.ROOT / "nebula" / "settings" / "production.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "REQUIRED":
            return set(ast.literal_eval(node.value))
    raise AssertionError("nebula/settings/production.py has no REQUIRED")


def test_every_variable_production_requires_is_given_to_every_container() -> None:
    required = _production_required()
    assert "DJANGO_SECRET_KEY" in required
    for container in _containers():
        given = {v["Name"] for v in container.get("Environment", [])}
        given |= {s["Name"] for s in container.get("Secrets", [])}
        assert required - given == set(), container["Name"]
