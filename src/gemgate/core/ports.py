"""Ports: what the services need from engines and stores, as Protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from gemgate.core.types import CachedContent, FinishReason, LogprobStep


@dataclass(frozen=True)
class ChatMessage:
    """A turn rendered for a chat template: role is system, user or assistant."""

    role: str
    content: str


@dataclass(frozen=True)
class JsonConstraint:
    """Output must be one JSON value valid against `schema` (JSON Schema)."""

    schema: Any
    field: str


@dataclass(frozen=True)
class ChoiceConstraint:
    """Output must be exactly one of `options`."""

    options: tuple[str, ...]
    field: str


@dataclass(frozen=True)
class ToolCallConstraint:
    """Output is either free text (when allowed) or 1..max_calls tool-call blocks.

    A block is OPEN + {"name": <one of the functions>, "args": <its parameters>} + CLOSE,
    the documented default tool-call format for local models without one of their own.
    """

    OPEN: ClassVar[str] = "<tool_call>"
    CLOSE: ClassVar[str] = "</tool_call>"

    functions: tuple[tuple[str, Any], ...]  # (name, JSON Schema of its args)
    allow_text: bool
    max_calls: int
    field: str


OutputConstraint = JsonConstraint | ChoiceConstraint | ToolCallConstraint


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: int | None = None  # None: none; 0: chosen token only; n: also top n
    constraint: OutputConstraint | None = None
    slot: int | None = None  # run on this engine slot (where a saved prefix was restored)


@dataclass(frozen=True)
class EngineDelta:
    """Text produced since the last delta, with per-token logprobs when asked."""

    text: str
    logprobs: tuple[LogprobStep, ...] = ()
    thought: bool = False


@dataclass(frozen=True)
class EngineFinish:
    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    thoughts_tokens: int = 0  # generated in a thinking pass, not counted in completion_tokens


EngineEvent = EngineDelta | EngineFinish


@dataclass(frozen=True)
class EngineCapabilities:
    context_tokens: int
    modalities: frozenset[str] = field(default_factory=lambda: frozenset({"TEXT"}))
    native_reasoning: bool = False  # the chat template has a <think> section


class Engine(Protocol):
    """A loaded model that renders chats, counts tokens and streams generations."""

    @property
    def capabilities(self) -> EngineCapabilities: ...

    async def render(self, messages: list[ChatMessage], add_generation_prompt: bool = True) -> str:
        """The exact prompt text the model will read (with the generation prompt unless not)."""

    async def count_tokens(self, prompt: str) -> int:
        """Tokens the engine will evaluate for this prompt (special tokens included)."""

    def check_constraint(self, constraint: OutputConstraint) -> None:
        """Raise InvalidArgument (naming constraint.field) if it cannot be enforced."""

    async def save_state(self, prompt: str, name: str) -> int:
        """Prefill `prompt` and persist its KV state as `name`; returns the tokens saved."""

    async def restore_state(self, name: str) -> int | None:
        """Load a persisted KV state; the slot to run on, or None if it cannot be loaded."""

    def discard_state(self, name: str) -> None:
        """Forget a persisted KV state."""

    def generate(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        """Stream deltas, then exactly one EngineFinish. Closing the iterator stops work."""


class EngineProvider(Protocol):
    """Gives the engine for a local model id, loading it on first use."""

    async def engine(self, model_id: str) -> Engine: ...


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    project: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None = None


class KeyStore(Protocol):
    def add(self, record: ApiKeyRecord, secret_hash: str) -> None: ...

    def find_by_hash(self, secret_hash: str) -> ApiKeyRecord | None: ...

    def list(self) -> list[ApiKeyRecord]: ...

    def revoke(self, key_id: str, when: float) -> bool: ...

    def count(self) -> int: ...


class CachedContentStore(Protocol):
    def add(self, cache: CachedContent) -> None: ...

    def get(self, cache_id: str) -> CachedContent | None: ...

    def list(self, project: str) -> list[CachedContent]: ...

    def set_expiry(self, cache_id: str, expire_time: float, update_time: float) -> None: ...

    def delete(self, cache_id: str) -> bool: ...

    def delete_expired(self, now: float) -> Sequence[str]: ...
