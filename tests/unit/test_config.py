from __future__ import annotations

from pathlib import Path

import pytest

from gemgate.config import load_settings


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gemgate.toml"
    config.write_text('port = 9000\nn_parallel = 2\nhost = "127.0.0.2"\n')
    monkeypatch.setenv("GEMGATE_N_PARALLEL", "3")
    settings = load_settings(config, host="127.0.0.9", port=None)
    assert settings.port == 9000  # file
    assert settings.n_parallel == 3  # environment beats file
    assert settings.host == "127.0.0.9"  # flag beats both


def test_defaults_serve_the_bundled_models_with_gemini_aliases() -> None:
    settings = load_settings()
    assert settings.default_model == "smollm2-135m-instruct"
    assert {m.id for m in settings.models} == {"smollm2-135m-instruct", "gemma-3-270m"}
    assert settings.aliases["gemini-2.5-flash"] == "default"
