"""Routing settings: deployments, routes and their validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gemgate.config import DeploymentSettings, Settings


def test_a_route_must_name_a_configured_deployment() -> None:
    with pytest.raises(ValidationError, match="unknown deployment 'nope'"):
        Settings(routes={"m": [{"deployment": "nope"}]})


def test_an_openai_deployment_needs_its_base_url() -> None:
    with pytest.raises(ValidationError, match="needs base_url"):
        DeploymentSettings(name="gpus", kind="openai")


def test_a_vertex_deployment_needs_project_and_key_file() -> None:
    with pytest.raises(ValidationError, match="needs project and credentials_file"):
        DeploymentSettings(name="v", kind="vertex", project="p")


def test_the_upstream_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_TEST_KEY", "secret-from-env")
    deployment = DeploymentSettings(name="s", kind="gemini", api_key_env="RELAY_TEST_KEY")
    assert deployment.key() == "secret-from-env"
    inline = DeploymentSettings(name="s", kind="gemini", api_key="inline")
    assert inline.key() == "inline"
    assert "inline" not in repr(inline)  # a secret is not printed with the settings


def test_route_targets_default_to_the_public_id_weight_one_priority_zero() -> None:
    settings = Settings(
        deployments=[{"name": "s", "kind": "gemini"}],
        routes={"gemini-2.5-flash": [{"deployment": "s"}]},
    )
    target = settings.routes["gemini-2.5-flash"][0]
    assert (target.model, target.weight, target.priority) == (None, 1.0, 0)
