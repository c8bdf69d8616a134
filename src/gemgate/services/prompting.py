"""Turns neutral Contents into the chat turns a local model reads, refusing what it cannot.

A part the model cannot take is a 400 naming the part and the model, never silently dropped.
"""

from __future__ import annotations

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import ChatMessage
from gemgate.core.types import (
    CodeExecutionResultPart,
    Content,
    ExecutableCodePart,
    FileDataPart,
    FunctionCallPart,
    FunctionResponsePart,
    InlineDataPart,
    Part,
    Role,
    TextPart,
)
from gemgate.services.code_execution import render_code, render_result
from gemgate.services.tools import render_call, render_response

_CHAT_ROLE = {Role.USER: "user", Role.MODEL: "assistant"}
_TEXT_MIME_PREFIXES = ("text/",)
_TEXT_MIME_TYPES = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-javascript",
    "application/x-python",
    "application/rtf",
}


def _modality(mime_type: str) -> str:
    major = mime_type.split("/", 1)[0].upper()
    if major in {"IMAGE", "AUDIO", "VIDEO"}:
        return major
    return "DOCUMENT"


def _is_text_mime(mime_type: str) -> bool:
    base = mime_type.split(";", 1)[0].strip().lower()
    return base.startswith(_TEXT_MIME_PREFIXES) or base in _TEXT_MIME_TYPES


def part_text(part: Part, where: str, model_id: str) -> str | None:
    """The text a part contributes to the prompt, None for parts that are left out."""
    if isinstance(part, TextPart):
        # Thoughts of earlier turns are not shown to the model again, as on Google.
        return None if part.thought else part.text
    if isinstance(part, InlineDataPart):
        if _is_text_mime(part.mime_type):
            try:
                return part.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidArgument(
                    f"{where}.inlineData.data is not valid UTF-8 text for {part.mime_type}",
                    field=f"{where}.inlineData",
                ) from exc
        raise InvalidArgument(
            f"Model {model_id} does not support {_modality(part.mime_type)} input "
            f"({part.mime_type} in {where}.inlineData): it is a text-only model.",
            field=f"{where}.inlineData",
        )
    if isinstance(part, FileDataPart):
        raise InvalidArgument(
            f"{where}.fileData refers to {part.file_uri!r}, which cannot be read here: "
            "fileData is resolved for generateContent, countTokens and cachedContents.",
            field=f"{where}.fileData",
        )
    if isinstance(part, FunctionCallPart):
        return render_call(part)
    if isinstance(part, FunctionResponsePart):
        return render_response(part)
    # Earlier code-execution turns read as the model wrote and saw them.
    if isinstance(part, ExecutableCodePart):
        return render_code(part.code)
    if isinstance(part, CodeExecutionResultPart):
        return render_result(part.outcome, part.output)
    raise InvalidArgument(f"{where} has a part type model {model_id} cannot take.", field=where)


def _turn_part_text(part: Part, role: Role, where: str, model_id: str) -> str | None:
    """A part in its turn: a figure the code-execution tool returned, echoed back in the
    model's own turn, is named rather than read (a text-only model cannot take it)."""
    figure = isinstance(part, InlineDataPart) and not _is_text_mime(part.mime_type)
    if role is Role.MODEL and figure and isinstance(part, InlineDataPart):
        return f"[figure: {part.mime_type}]\n"
    return part_text(part, where, model_id)


def _content_text(content: Content, where: str, model_id: str) -> str:
    texts = [
        text
        for i, part in enumerate(content.parts)
        if (text := _turn_part_text(part, content.role, f"{where}.parts[{i}]", model_id))
        is not None
    ]
    return "".join(texts)


def validate_contents(contents: tuple[Content, ...]) -> None:
    if not contents:
        raise InvalidArgument("contents is not specified", field="contents")
    for i, content in enumerate(contents):
        if not content.parts:
            raise InvalidArgument(
                f"contents[{i}].parts must not be empty.", field=f"contents[{i}].parts"
            )


def chat_messages(
    contents: tuple[Content, ...],
    system_instruction: Content | None,
    model_id: str,
    tool_section: str | None = None,
) -> list[ChatMessage]:
    validate_contents(contents)
    messages: list[ChatMessage] = []
    system = (
        _content_text(system_instruction, "systemInstruction", model_id)
        if system_instruction is not None
        else ""
    )
    system = "\n\n".join(text for text in (system, tool_section) if text)
    if system:
        messages.append(ChatMessage("system", system))
    for i, content in enumerate(contents):
        text = _content_text(content, f"contents[{i}]", model_id)
        role = _CHAT_ROLE[content.role]
        if messages and messages[-1].role == role == "assistant":
            # Gemini allows consecutive model turns (a streamed answer is recorded chunk by
            # chunk); llama.cpp refuses them. Consecutive user turns stay separate, so a
            # cached prefix ends exactly where it did when it was cached.
            text = f"{messages[-1].content}\n\n{text}" if messages[-1].content else text
            messages[-1] = ChatMessage(role, text)
        else:
            messages.append(ChatMessage(role, text))
    return messages
