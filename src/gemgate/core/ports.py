"""Ports: what the services need from engines and stores, as Protocols."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from gemgate.core.types import (
    CachedContent,
    CacheDraft,
    EmbedRequest,
    EmbedResponse,
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    LogprobStep,
    Part,
    StoredFile,
    StreamChunk,
    UploadSession,
    Usage,
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


class Upstream(Protocol):
    """One deployment of a remote provider (Gemini, Vertex AI, an OpenAI-compatible server).

    Request-level, unlike Engine: it takes the whole request and answers in core types. `model`
    is the upstream's own model id. Failures raise core.errors.UpstreamError carrying the
    upstream's status (and Retry-After), so the router can decide whether to try again.
    """

    async def generate(self, model: str, request: GenerateRequest) -> GenerateResponse: ...

    def stream(self, model: str, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        """Chunks as the upstream sends them; closing the generator closes the connection."""

    async def count_tokens(self, model: str, request: GenerateRequest) -> int: ...

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResponse: ...

    async def create_cache(
        self, model: str, draft: CacheDraft, ttl_seconds: float
    ) -> UpstreamCache:
        """Create an explicit cache upstream (owned by this deployment's credential)."""

    async def update_cache(self, name: str, ttl_seconds: float) -> None: ...

    async def delete_cache(self, name: str) -> None: ...

    async def upload_file(self, file: StoredFile, chunks: AsyncIterator[bytes]) -> str:
        """Upload a gemgate file's bytes through the upstream's Files API; its uri there."""

    async def describe(self, model: str) -> dict[str, Any] | None:
        """The upstream's own Gemini Model JSON for `model`, or None if it has none."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class UpstreamCache:
    """What an upstream said about a cache it made: its own name and the prefix's tokens."""

    name: str
    total_tokens: int


@dataclass(frozen=True)
class Pin:
    """A resource gemgate made upstream: which deployment (credential) owns it, under what name.

    `resource` is gemgate's name (`cachedContents/{id}`); requests that use it go to
    `deployment` only, with `upstream_name` in its place.
    """

    resource: str
    project: str
    deployment: str
    upstream_name: str
    create_time: float


class PinStore(Protocol):
    def add(self, pin: Pin) -> None: ...

    def get(self, resource: str) -> Pin | None: ...

    def delete(self, resource: str) -> bool: ...


class EngineProvider(Protocol):
    """Gives the engine for a local model id, loading it on first use."""

    async def engine(self, model_id: str) -> Engine: ...


@dataclass(frozen=True)
class KeyLimits:
    """What one key may spend; None (or no models) means unlimited."""

    rpm: int | None = None  # requests per minute
    tpm: int | None = None  # tokens per minute
    daily_tokens: int | None = None  # tokens per UTC day
    budget_usd: float | None = None  # lifetime spend
    models: tuple[str, ...] = ()  # model ids the key may call (as in the URL)


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    project: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None = None
    limits: KeyLimits = field(default_factory=KeyLimits)


class KeyStore(Protocol):
    def add(self, record: ApiKeyRecord, secret_hash: str) -> None: ...

    def find_by_hash(self, secret_hash: str) -> ApiKeyRecord | None: ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def list(self) -> list[ApiKeyRecord]: ...

    def revoke(self, key_id: str, when: float) -> bool: ...

    def rotate(self, key_id: str, secret_hash: str, prefix: str) -> bool:
        """Replace an active key's secret; the old one stops matching at once."""

    def count(self) -> int: ...


class Counters(Protocol):
    """Named numeric counters that expire; shared by every replica when backed by Redis."""

    async def take(self, name: str, amount: float, limit: float, ttl: float) -> float | None:
        """Add `amount` if the counter is below `limit`: the value after, or None (refused).

        Atomic: N concurrent takes of 1 with limit L admit exactly L per counter life. A
        counter is created at 0 and expires `ttl` seconds after it was created.
        """

    async def add(self, name: str, amount: float, ttl: float | None) -> float:
        """Add `amount` (created at 0, expiring after ttl seconds; None: never)."""

    async def get(self, name: str) -> float | None:
        """The value, or None when the counter does not exist (never set, or expired)."""

    async def seed(self, name: str, value: float, ttl: float | None) -> None:
        """Set the counter only if it does not exist (restores state after a restart)."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class UsageRecord:
    """One ledger row: what a request asked for, what served it, what it used and cost."""

    time: float
    key_id: str | None
    project: str
    method: str  # generateContent, streamGenerateContent, countTokens, chat.completions, ...
    model_asked: str
    model_served: str = ""
    deployment: str = ""  # local:<model id>; upstream deployments name theirs
    prompt_tokens: int = 0
    cached_tokens: int = 0
    candidates_tokens: int = 0
    thoughts_tokens: int = 0
    tool_use_prompt_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    status: str = "OK"  # OK, a canonical error code, or CANCELLED (the client went away)
    error: str = ""

    @property
    def total_tokens(self) -> int:
        usage = Usage(
            self.prompt_tokens,
            self.candidates_tokens,
            self.cached_tokens,
            self.thoughts_tokens,
            self.tool_use_prompt_tokens,
        )
        return usage.total_tokens


@dataclass(frozen=True)
class UsageTotals:
    """A ledger summary for one group (a key, a model or a day)."""

    group: str
    requests: int
    errors: int
    prompt_tokens: int
    cached_tokens: int
    candidates_tokens: int
    thoughts_tokens: int
    cost_usd: float


class UsageStore(Protocol):
    def add_many(self, records: Sequence[UsageRecord]) -> None: ...

    def summary(self, by: str, since: float, key_id: str | None = None) -> list[UsageTotals]:
        """Totals grouped `by` key, model (asked) or day (UTC), from `since` on."""

    def spent(self, key_id: str, since: float = 0.0) -> tuple[int, float]:
        """Tokens and USD a key has used since `since`."""


class CachedContentStore(Protocol):
    def add(self, cache: CachedContent) -> None: ...

    def get(self, cache_id: str) -> CachedContent | None: ...

    def list(self, project: str) -> list[CachedContent]: ...

    def set_expiry(self, cache_id: str, expire_time: float, update_time: float) -> None: ...

    def delete(self, cache_id: str) -> bool: ...

    def delete_expired(self, now: float) -> Sequence[str]: ...


class ResponseCache(Protocol):
    """Stored answers to reproducible requests, under keys the generation service derives.

    Entries are held per project, live `ttl` and are bounded in number; in process
    (store/responses.py) or in Redis, shared by replicas (store/redis_responses.py). A cache
    that cannot answer misses: it never fails a request.
    """

    @property
    def enabled(self) -> bool: ...

    async def get(self, project: str, key: str) -> GenerateResponse | None: ...

    async def put(self, project: str, key: str, response: GenerateResponse) -> None: ...


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
