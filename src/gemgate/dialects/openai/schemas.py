"""OpenAI chat-completions wire models (requests): validation only, named as in OpenAI's reference.

Unknown fields are ignored, as OpenAI ignores them: the SDKs and LangChain send extras. Fields
whose meaning gemgate cannot honour are kept here so decode can refuse them by name instead of
dropping them silently. Google's extensions (`extra_body.google`, or a top-level `google`)
accept snake_case and camelCase keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True
    )


class GoogleModel(WireModel):
    model_config = ConfigDict(alias_generator=to_camel)


class ImageURL(WireModel):
    url: str
    detail: str | None = None


class InputAudio(WireModel):
    data: str
    format: str


class File(WireModel):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class ChatCompletionContentPartParam(WireModel):
    """One part of a message's content; which key matters depends on `type`."""

    type: str
    text: str | None = None
    image_url: ImageURL | None = None
    input_audio: InputAudio | None = None
    file: File | None = None
    refusal: str | None = None


class Function(WireModel):
    name: str
    arguments: str = "{}"


class GoogleToolCallExtras(GoogleModel):
    thought_signature: str | None = None


class ToolCallExtraContent(WireModel):
    google: GoogleToolCallExtras | None = None


class ChatCompletionMessageToolCallParam(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: Function
    extra_content: ToolCallExtraContent | None = None


MessageContent = str | list[ChatCompletionContentPartParam] | None


class ChatCompletionMessageParam(WireModel):
    """Any message: which fields apply depends on `role`, checked in decode."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: MessageContent = None
    name: str | None = None
    tool_calls: list[ChatCompletionMessageToolCallParam] | None = None
    tool_call_id: str | None = None


class FunctionDefinition(WireModel):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ChatCompletionToolParam(WireModel):
    type: str = "function"
    function: FunctionDefinition | None = None


class FunctionName(WireModel):
    name: str


class ChatCompletionNamedToolChoiceParam(WireModel):
    type: Literal["function"]
    function: FunctionName


class AllowedTools(WireModel):
    mode: Literal["auto", "required"]
    tools: list[ChatCompletionNamedToolChoiceParam]


class ChatCompletionAllowedToolChoiceParam(WireModel):
    type: Literal["allowed_tools"]
    allowed_tools: AllowedTools


ToolChoice = (
    Literal["none", "auto", "required"]
    | ChatCompletionNamedToolChoiceParam
    | ChatCompletionAllowedToolChoiceParam
)


class JSONSchema(WireModel):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchema | None = None


class ChatCompletionStreamOptionsParam(WireModel):
    include_usage: bool | None = None


class ThinkingConfig(GoogleModel):
    thinking_budget: int | None = None
    include_thoughts: bool | None = None
    thinking_level: str | None = None


class GoogleExtensions(GoogleModel):
    thinking_config: ThinkingConfig | None = None
    cached_content: str | None = None


class ExtraBody(WireModel):
    google: GoogleExtensions | None = None


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]


class ChatCompletionRequest(WireModel):
    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[ChatCompletionMessageParam], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    n: Annotated[int, Field(ge=1, le=8)] | None = None
    stop: str | Annotated[list[str], Field(max_length=5)] | None = None
    seed: int | None = None
    presence_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    user: str | None = None
    stream: bool | None = None
    stream_options: ChatCompletionStreamOptionsParam | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: list[ChatCompletionToolParam] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    extra_body: ExtraBody | None = None
    google: GoogleExtensions | None = None
    # Kept only to be refused by name: gemgate cannot honour them.
    logit_bias: dict[str, float] | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: Any = None


class EmbeddingCreateParams(WireModel):
    """POST /embeddings. Token-array inputs validate here and are refused by decode, by name."""

    model: Annotated[str, Field(min_length=1)]
    input: str | list[str] | list[int] | list[list[int]]
    dimensions: Annotated[int, Field(ge=1)] | None = None
    encoding_format: Literal["float", "base64"] | None = None
    user: str | None = None
