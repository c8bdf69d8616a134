"""Ports: what the services need from engines and stores, as Protocols."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from gemgate.core.types import (
    CachedContent,
    FinishReason,
    LogprobStep,
    Part,
    StoredFile,
    UploadSession,
)


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


@dataclass(frozen=True)
class CodeBlockConstraint:
    """Output is prose without a code fence, then (when `allow_code`) one fenced Python block.

    The block is FENCE_OPEN + code + FENCE_CLOSE and ends the generation: the caller runs the
    code before the model writes anything after it.
    """

    FENCE_OPEN: ClassVar[str] = "```python\n"
    FENCE_CLOSE: ClassVar[str] = "```"

    allow_code: bool
    field: str


OutputConstraint = JsonConstraint | ChoiceConstraint | ToolCallConstraint | CodeBlockConstraint


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
    # Ready-made response parts (executed code and its result) that follow `text`.
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class EngineFinish:
    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    thoughts_tokens: int = 0  # generated in a thinking pass, not counted in completion_tokens
    tool_use_prompt_tokens: int = 0  # tool results (code output) the model read


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


@dataclass(frozen=True)
class SandboxFile:
    """A file placed in the sandbox's working directory before the code runs."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CodeRun:
    """What one execution produced: outcome is OUTCOME_OK, OUTCOME_FAILED or
    OUTCOME_DEADLINE_EXCEEDED; output is stdout (and stderr when it failed)."""

    outcome: str
    output: str
    images: tuple[tuple[str, bytes], ...] = ()  # (mime type, bytes) of figures the code made


class CodeRunner(Protocol):
    """Runs untrusted Python in isolation, within limits, and reports what it printed."""

    @property
    def isolation(self) -> str:
        """How executions are isolated ("bwrap" or the weaker "process")."""

    async def run(self, code: str, files: Sequence[SandboxFile] = ()) -> CodeRun: ...


@dataclass(frozen=True)
class EmbeddingOutput:
    """One vector per input text, and the tokens the model read for each."""

    vectors: list[list[float]]
    token_counts: list[int]


class Embedder(Protocol):
    """A loaded text-embedding model; embedding is batched and runs off the event loop."""

    async def embed(self, texts: list[str]) -> EmbeddingOutput: ...


class EmbedderProvider(Protocol):
    """Gives the embedder for a local embedding model id, loading it on first use."""

    async def embedder(self, model_id: str) -> Embedder: ...


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


class FileStore(Protocol):
    """Files API metadata: finished files and the upload sessions that lead to them."""

    def add_file(self, file: StoredFile) -> None: ...

    def get_file(self, file_id: str) -> StoredFile | None: ...

    def list_files(self, project: str) -> list[StoredFile]: ...

    def delete_file(self, file_id: str) -> bool: ...

    def expired_files(self, now: float) -> list[StoredFile]: ...

    def project_bytes(self, project: str) -> int:
        """Bytes held by the project's files plus those reserved by its open uploads."""

    def add_upload(self, upload: UploadSession) -> None: ...

    def get_upload(self, upload_id: str) -> UploadSession | None: ...

    def finish_upload(self, upload_id: str) -> None: ...

    def delete_upload(self, upload_id: str) -> bool: ...

    def expired_uploads(self, now: float) -> list[UploadSession]: ...


class BlobStore(Protocol):
    """Bytes of uploads and files. Partial uploads are invisible until committed.

    The disk implementation lives in store/blobs.py; an S3-compatible store (multipart
    upload per session, commit = complete) can stand in its place.
    """

    def received(self, upload_id: str) -> int:
        """Bytes of the partial upload durably received so far (0 if none)."""

    async def write(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Write chunks at offset (0 <= offset <= received); returns the new size."""

    async def commit(self, upload_id: str, blob_id: str) -> tuple[int, bytes]:
        """Make the partial upload the blob `blob_id`; returns its size and SHA-256."""

    async def read(self, blob_id: str) -> bytes: ...

    def stream(self, blob_id: str) -> AsyncIterator[bytes]: ...

    def delete(self, blob_id: str) -> None: ...

    def discard(self, upload_id: str) -> None: ...
