from __future__ import annotations

import pytest

from gemgate.core.errors import NotFound
from gemgate.services.models import LocalModel, ModelRegistry

LOCAL = [
    LocalModel("small", "Small", "", 4096, 1024),
    LocalModel("other", "Other", "", 8192, 2048),
]


def registry() -> ModelRegistry:
    return ModelRegistry(LOCAL, {"gemini-2.5-flash": "default", "gemini-2.5-pro": "other"}, "small")


@pytest.mark.parametrize(
    ("name", "local", "nothink"),
    [
        ("small", "small", False),
        ("models/other", "other", False),
        ("gemini-2.5-flash", "small", False),
        ("models/gemini-2.5-pro", "other", False),
        ("gemini-2.5-flash-preview-04-17", "small", False),
        ("gemini-2.5-flash-001", "small", False),
        ("gemini-2.5-flash-nothink", "small", True),
        ("gemini-2.5-pro-preview-06-05-nothink", "other", True),
    ],
)
def test_names_resolve_to_the_local_model(name: str, local: str, nothink: bool) -> None:
    resolved = registry().resolve(name)
    assert resolved.local.id == local and resolved.thinking_disabled is nothink


@pytest.mark.parametrize("name", ["gemini-9", "gemini-2.5", "gemini-2.5-flashy", "tunedModels/x"])
def test_unknown_names_are_not_found(name: str) -> None:
    with pytest.raises(NotFound):
        registry().resolve(name)


def test_listing_names_local_models_and_aliases_with_limits() -> None:
    infos = {info.id: info for info in registry().list_models()}
    assert set(infos) == {"small", "other", "gemini-2.5-flash", "gemini-2.5-pro"}
    assert infos["gemini-2.5-pro"].input_token_limit == 8192
    assert infos["gemini-2.5-pro"].version == "other"


def test_an_alias_to_a_missing_model_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown local model"):
        ModelRegistry(LOCAL, {"x": "missing"}, "small")
