"""Gemini REST wire models (requests): validation only, named as in Google's reference.

Every field accepts both its camelCase and snake_case spelling at any depth, as protobuf-JSON
does (the SDK mixes them). Unknown fields are refused, as Google refuses them. Free-form maps
(function args, responses, labels, schemas) are kept as plain dicts and never rewritten.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        frozen=True,
    )


class Blob(WireModel):
    mime_type: str
    data: str = ""
    display_name: str | None = None


class FileData(WireModel):
    file_uri: str
    mime_type: str | None = None
    display_name: str | None = None


class FunctionCall(WireModel):
    name: str
    id: str | None = None
    args: dict[str, Any] | None = None
    partial_args: list[dict[str, Any]] | None = None
    will_continue: bool | None = None


class FunctionResponse(WireModel):
    name: str
    id: str | None = None
    response: dict[str, Any] | None = None
    parts: list[dict[str, Any]] | None = None
    will_continue: bool | None = None
    scheduling: str | None = None


class ExecutableCode(WireModel):
    code: str
    language: str = "PYTHON"
    id: str | None = None


class CodeExecutionResult(WireModel):
    outcome: str
    output: str | None = None
    id: str | None = None


class Part(WireModel):
    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: ExecutableCode | None = None
    code_execution_result: CodeExecutionResult | None = None
    video_metadata: dict[str, Any] | None = None
    media_resolution: dict[str, Any] | str | None = None
    part_metadata: dict[str, Any] | None = None
    tool_call: dict[str, Any] | None = None
    tool_response: dict[str, Any] | None = None


class Content(WireModel):
    role: str | None = None
    parts: list[Part] = Field(default_factory=list)


class ThinkingConfig(WireModel):
    thinking_budget: int | None = None
    include_thoughts: bool | None = None
    thinking_level: str | None = None


class GenerationConfig(WireModel):
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    top_k: Annotated[float, Field(ge=1)] | None = None
    candidate_count: Annotated[int, Field(ge=1, le=8)] | None = None
    max_output_tokens: Annotated[int, Field(ge=1)] | None = None
    stop_sequences: Annotated[list[str], Field(max_length=5)] | None = None
    seed: int | None = None
    presence_penalty: Annotated[float, Field(ge=-2.0, lt=2.0)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2.0, lt=2.0)] | None = None
    response_logprobs: bool | None = None
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: Any = None
    response_modalities: list[str] | None = None
    media_resolution: str | None = None
    speech_config: dict[str, Any] | None = None
    thinking_config: ThinkingConfig | None = None
    image_config: dict[str, Any] | None = None
    enable_enhanced_civic_answers: bool | None = None
    audio_transcription_config: dict[str, Any] | None = None
    enable_affective_dialog: bool | None = None
    routing_config: dict[str, Any] | None = None
    model_selection_config: dict[str, Any] | None = None


class SafetySetting(WireModel):
    category: str
    threshold: str
    method: str | None = None


class Tool(WireModel):
    function_declarations: list[dict[str, Any]] | None = None
    google_search: dict[str, Any] | None = None
    google_search_retrieval: dict[str, Any] | None = None
    code_execution: dict[str, Any] | None = None
    url_context: dict[str, Any] | None = None
    file_search: dict[str, Any] | None = None
    google_maps: dict[str, Any] | None = None
    computer_use: dict[str, Any] | None = None
    mcp_servers: list[dict[str, Any]] | None = None
    retrieval: dict[str, Any] | None = None
    enterprise_web_search: dict[str, Any] | None = None


class ToolConfig(WireModel):
    function_calling_config: dict[str, Any] | None = None
    retrieval_config: dict[str, Any] | None = None
    include_server_side_tool_invocations: bool | None = None


class GenerateContentRequest(WireModel):
    model: str | None = None
    contents: list[Content] = Field(default_factory=list)
    system_instruction: Content | None = None
    generation_config: GenerationConfig | None = None
    safety_settings: list[SafetySetting] | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    cached_content: str | None = None
    labels: dict[str, str] | None = None
    service_tier: str | None = None
    continuation_token: str | None = None
    store: bool | None = None


class CountTokensRequest(WireModel):
    contents: list[Content] | None = None
    generate_content_request: GenerateContentRequest | None = None


class CachedContentUsage(WireModel):
    total_token_count: int | None = None


class CachedContent(WireModel):
    """cachedContents create body (output-only fields are accepted and ignored)."""

    model: str | None = None
    contents: list[Content] = Field(default_factory=list)
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    display_name: str | None = None
    ttl: str | None = None
    expire_time: str | None = None
    name: str | None = None
    create_time: str | None = None
    update_time: str | None = None
    usage_metadata: CachedContentUsage | None = None
    kms_key_name: str | None = None


class CachedContentUpdate(WireModel):
    ttl: str | None = None
    expire_time: str | None = None


class EmbedContentRequest(WireModel):
    """One embedContent body, and one item of batchEmbedContents' `requests`."""

    model: str | None = None
    content: Content
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: int | None = None


class BatchEmbedContentsRequest(WireModel):
    requests: list[EmbedContentRequest] = Field(default_factory=list)
