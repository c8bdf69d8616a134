"""The dialect-neutral request/response model every dialect decodes to and encodes from.

It follows Gemini's Content/Part model (the richest of the dialects) with neutral Python names
and no wire aliases. Pure data: imports nothing of ours but core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    USER = "user"
    MODEL = "model"


class FinishReason(StrEnum):
    STOP = "STOP"
    MAX_TOKENS = "MAX_TOKENS"
    SAFETY = "SAFETY"
    OTHER = "OTHER"
    MALFORMED_FUNCTION_CALL = "MALFORMED_FUNCTION_CALL"


class Modality(StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    AUDIO = "AUDIO"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"


@dataclass(frozen=True)
class TextPart:
    text: str
    thought: bool = False
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class InlineDataPart:
    mime_type: str
    data: bytes
    display_name: str | None = None
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class FileDataPart:
    file_uri: str
    mime_type: str | None = None
    display_name: str | None = None
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class FunctionCallPart:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class FunctionResponsePart:
    name: str
    response: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class ExecutableCodePart:
    code: str
    language: str = "PYTHON"
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class CodeExecutionResultPart:
    outcome: str
    output: str = ""
    thought_signature: bytes | None = None


Part = (
    TextPart
    | InlineDataPart
    | FileDataPart
    | FunctionCallPart
    | FunctionResponsePart
    | ExecutableCodePart
    | CodeExecutionResultPart
)


@dataclass(frozen=True)
class Content:
    role: Role
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class ThinkingConfig:
    budget: int | None = None
    level: str | None = None
    include_thoughts: bool = False


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    candidate_count: int = 1
    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_logprobs: bool = False
    logprobs: int | None = None
    response_mime_type: str | None = None
    # Always JSON Schema: Google's OpenAPI-subset responseSchema is translated at decode.
    response_json_schema: Any = None
    thinking: ThinkingConfig | None = None


@dataclass(frozen=True)
class Tool:
    """A tool as declared; the generation service decides what it can honour."""

    kind: str
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerateRequest:
    model: str
    contents: tuple[Content, ...]
    system_instruction: Content | None = None
    config: GenerationConfig = field(default_factory=GenerationConfig)
    tools: tuple[Tool, ...] = ()
    tool_config: dict[str, Any] | None = None
    cached_content: str | None = None
    # The caller's own Gemini JSON body, kept so a Gemini upstream receives it unchanged.
    native: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    token_id: int
    logprob: float


@dataclass(frozen=True)
class LogprobStep:
    chosen: TokenLogprob
    top: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    candidates_tokens: int = 0
    cached_tokens: int = 0
    thoughts_tokens: int = 0
    tool_use_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return (
            self.prompt_tokens
            + self.candidates_tokens
            + self.thoughts_tokens
            + self.tool_use_prompt_tokens
        )


@dataclass(frozen=True)
class Candidate:
    index: int
    parts: tuple[Part, ...]
    finish_reason: FinishReason | None = None
    logprobs: tuple[LogprobStep, ...] | None = None


@dataclass(frozen=True)
class GenerateResponse:
    candidates: tuple[Candidate, ...]
    usage: Usage
    model_version: str
    response_id: str
    create_time: float
    # A Gemini upstream's own JSON for this response, sent to Gemini callers unchanged.
    native: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # The upstream deployment that answered (None: a local model).
    deployment: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class StreamChunk:
    """One increment of a streamed response; usage rides on the final chunk only."""

    candidates: tuple[Candidate, ...]
    model_version: str
    response_id: str
    create_time: float
    usage: Usage | None = None
    # A Gemini upstream's own JSON for this chunk, sent to Gemini callers unchanged.
    native: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # The upstream deployment that answered (None: a local model).
    deployment: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ModelInfo:
    """What models.get/list tell about a servable model id."""

    id: str
    display_name: str
    description: str
    version: str
    input_token_limit: int
    output_token_limit: int
    temperature: float
    max_temperature: float
    top_p: float
    top_k: int
    thinking: bool = False
    # Set for models that are not chat models (embeddings); empty means the chat methods.
    supported_methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class CachedContent:
    """An explicit context cache: a prefix of a conversation, stored and kept warm."""

    id: str
    project: str
    model: str  # the public model id it was created for, without "models/"
    display_name: str
    contents: tuple[Content, ...]
    system_instruction: Content | None
    tools: tuple[Tool, ...]
    tool_config: dict[str, Any] | None
    create_time: float
    update_time: float
    expire_time: float
    total_tokens: int


@dataclass(frozen=True)
class CacheDraft:
    """What a caller asks to cache."""

    model: str
    contents: tuple[Content, ...]
    system_instruction: Content | None = None
    tools: tuple[Tool, ...] = ()
    tool_config: dict[str, Any] | None = None
    display_name: str = ""
    ttl_seconds: float | None = None
    expire_time: float | None = None


# Embeddings -------------------------------------------------------------------------------

EMBEDDING_TASK_TYPES = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)


@dataclass(frozen=True)
class EmbedInput:
    """One text to embed. `where` is the wire path of this input, for naming bad fields."""

    text: str
    where: str
    dimensions_field: str
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: int | None = None


@dataclass(frozen=True)
class EmbedRequest:
    model: str
    inputs: tuple[EmbedInput, ...]
    # The caller's own Gemini batchEmbedContents body, for a Gemini upstream.
    native: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EmbedResponse:
    """Vectors in input order; `model` names the local model that really computed them."""

    model: str
    vectors: tuple[tuple[float, ...], ...]
    prompt_tokens: int


class FileState(StrEnum):
    PROCESSING = "PROCESSING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file (Files API): metadata only; the bytes live in a BlobStore."""

    id: str  # lowercase alphanumeric; the resource name is files/{id}
    project: str
    display_name: str
    mime_type: str
    size_bytes: int
    sha256: bytes
    create_time: float
    update_time: float
    expire_time: float
    state: FileState = FileState.ACTIVE
    source: str = "UPLOADED"


@dataclass(frozen=True)
class UploadSession:
    """A resumable upload in progress, keyed by the hash of its unguessable token."""

    id: str
    project: str
    file_id: str  # the id the file will get when finalized
    display_name: str
    mime_type: str
    declared_bytes: int | None  # X-Goog-Upload-Header-Content-Length, when sent
    create_time: float
    expire_time: float
    finalized: bool = False
