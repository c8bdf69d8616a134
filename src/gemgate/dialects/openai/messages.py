"""OpenAI messages -> a system instruction and Gemini contents. Pure; refusals name the field.

System and developer messages join into the system instruction; user and tool messages are
user turns, assistant messages model turns. A tool message's function name comes from the
assistant tool call it answers.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.openai import schemas as wire


def decode_base64(value: str, field: str) -> bytes:
    """Standard or URL-safe alphabet, padding optional."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument(f"{field} is not valid base64.", field=field) from exc


def decode_data_url(url: str, field: str) -> core.InlineDataPart:
    """`data:<mime>[;params][;base64],<data>` -> inline bytes."""
    header, comma, payload = url.partition(",")
    if not header.startswith("data:") or not comma:
        raise InvalidArgument(f"{field} is not a data URL.", field=field)
    params = header.removeprefix("data:").split(";")
    mime_type = params[0].strip() or "text/plain"
    if "base64" in (p.strip().lower() for p in params[1:]):
        return core.InlineDataPart(mime_type, decode_base64(payload, field))
    return core.InlineDataPart(mime_type, unquote_to_bytes(payload))


def _image_part(image: wire.ImageURL, where: str) -> core.Part:
    if image.url.startswith("data:"):
        return decode_data_url(image.url, f"{where}.image_url.url")
    # A URL is a reference the serving side resolves, or refuses, as a fileData part.
    return core.FileDataPart(file_uri=image.url)


def _file_part(file: wire.File, where: str) -> core.Part:
    if file.file_data:
        if file.file_data.startswith("data:"):
            return decode_data_url(file.file_data, f"{where}.file.file_data")
        data = decode_base64(file.file_data, f"{where}.file.file_data")
        return core.InlineDataPart("application/octet-stream", data, file.filename)
    if file.file_id:
        return core.FileDataPart(file_uri=file.file_id, display_name=file.filename)
    raise InvalidArgument(
        f"{where}.file needs file_data or file_id.", field=f"{where}.file.file_data"
    )


def decode_content_part(part: wire.ChatCompletionContentPartParam, where: str) -> core.Part:
    if part.type == "text" and part.text is not None:
        return core.TextPart(part.text)
    if part.type == "refusal" and part.refusal is not None:
        return core.TextPart(part.refusal)
    if part.type == "image_url" and part.image_url is not None:
        return _image_part(part.image_url, where)
    if part.type == "input_audio" and part.input_audio is not None:
        audio = part.input_audio
        data = decode_base64(audio.data, f"{where}.input_audio.data")
        return core.InlineDataPart(f"audio/{audio.format.lower()}", data)
    if part.type == "file" and part.file is not None:
        return _file_part(part.file, where)
    known = {"text", "refusal", "image_url", "input_audio", "file"}
    if part.type in known:
        raise InvalidArgument(
            f"{where} has type {part.type!r} but no {part.type!r} field.",
            field=f"{where}.{part.type}",
        )
    raise InvalidArgument(
        f"{where}.type {part.type!r} is not supported; use one of {sorted(known)}.",
        field=f"{where}.type",
    )


def decode_message_parts(content: wire.MessageContent, where: str) -> tuple[core.Part, ...]:
    if content is None:
        raise InvalidArgument(f"{where}.content is required.", field=f"{where}.content")
    if isinstance(content, str):
        return (core.TextPart(content),)
    if not content:
        raise InvalidArgument(f"{where}.content must not be empty.", field=f"{where}.content")
    return tuple(decode_content_part(p, f"{where}.content[{i}]") for i, p in enumerate(content))


def _plain_text(content: wire.MessageContent, where: str) -> str:
    texts: list[str] = []
    for i, part in enumerate(decode_message_parts(content, where)):
        if not isinstance(part, core.TextPart):
            raise InvalidArgument(
                f"{where}.content[{i}]: only text parts are allowed in this message.",
                field=f"{where}.content[{i}]",
            )
        texts.append(part.text)
    return "".join(texts)


def decode_tool_call(
    call: wire.ChatCompletionMessageToolCallParam, where: str
) -> core.FunctionCallPart:
    try:
        args = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            f"{where}.function.arguments is not valid JSON: {exc}",
            field=f"{where}.function.arguments",
        ) from exc
    if not isinstance(args, dict):
        raise InvalidArgument(
            f"{where}.function.arguments must be a JSON object.",
            field=f"{where}.function.arguments",
        )
    google = call.extra_content.google if call.extra_content else None
    signature = None
    if google is not None and google.thought_signature:
        signature = decode_base64(
            google.thought_signature, f"{where}.extra_content.google.thought_signature"
        )
    return core.FunctionCallPart(call.function.name, args, call.id, signature)


def tool_result(text: str) -> dict[str, Any]:
    """A tool message's content: its JSON value when it is JSON, else the string itself."""
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    return {"result": value}


class _Conversation:
    """Folds messages into a system instruction and Gemini contents.

    Consecutive tool messages answer one assistant turn, so they become one user turn of
    function responses; each response's name comes from the tool call it answers.
    """

    def __init__(self) -> None:
        self.system: list[str] = []
        self.contents: list[core.Content] = []
        self._call_names: dict[str, str] = {}
        self._last_was_tool = False

    def add(self, message: wire.ChatCompletionMessageParam, where: str) -> None:
        role = message.role
        if role in ("system", "developer"):
            self.system.append(_plain_text(message.content, where))
        elif role == "user":
            self._append(core.Role.USER, decode_message_parts(message.content, where))
        elif role == "assistant":
            self._append(core.Role.MODEL, self._assistant_parts(message, where))
        elif role == "tool":
            self._add_tool_result(message, where)
            return
        else:
            raise InvalidArgument(
                f"{where}.role 'function' is deprecated and not supported; use tools and "
                "'tool' messages.",
                field=f"{where}.role",
            )
        self._last_was_tool = False

    def _append(self, role: core.Role, parts: tuple[core.Part, ...]) -> None:
        self.contents.append(core.Content(role, parts))

    def _assistant_parts(
        self, message: wire.ChatCompletionMessageParam, where: str
    ) -> tuple[core.Part, ...]:
        calls = tuple(
            decode_tool_call(call, f"{where}.tool_calls[{i}]")
            for i, call in enumerate(message.tool_calls or ())
        )
        for call in calls:
            if call.id:
                self._call_names[call.id] = call.name
        if message.content is None or message.content == "":
            if calls:
                return calls
            if message.content is None:
                raise InvalidArgument(
                    f"{where} (assistant) needs content or tool_calls.", field=f"{where}.content"
                )
        return (core.TextPart(_plain_text(message.content, where)), *calls)

    def _add_tool_result(self, message: wire.ChatCompletionMessageParam, where: str) -> None:
        call_id = message.tool_call_id
        if not call_id:
            raise InvalidArgument(
                f"{where}.tool_call_id is required.", field=f"{where}.tool_call_id"
            )
        name = self._call_names.get(call_id)
        if name is None:
            raise InvalidArgument(
                f"{where}.tool_call_id {call_id!r} does not answer any earlier tool call.",
                field=f"{where}.tool_call_id",
            )
        text = _plain_text(message.content, where)
        part = core.FunctionResponsePart(name, tool_result(text), call_id)
        if self._last_was_tool:
            last = self.contents[-1]
            self.contents[-1] = core.Content(last.role, (*last.parts, part))
        else:
            self._append(core.Role.USER, (part,))
        self._last_was_tool = True


def decode_messages(
    messages: list[wire.ChatCompletionMessageParam],
) -> tuple[core.Content | None, tuple[core.Content, ...]]:
    conversation = _Conversation()
    for i, message in enumerate(messages):
        conversation.add(message, f"messages[{i}]")
    if not conversation.contents:
        raise InvalidArgument(
            "messages needs at least one user, assistant or tool message.", field="messages"
        )
    system = None
    if conversation.system:
        text = "\n\n".join(conversation.system)
        system = core.Content(core.Role.USER, (core.TextPart(text),))
    return system, tuple(conversation.contents)
