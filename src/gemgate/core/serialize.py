"""Neutral contents <-> plain JSON values, for what gemgate stores (caches, batches).

Not a wire format: field names are the core's own. Bytes travel as base64.
"""

from __future__ import annotations

import base64
from typing import Any

from gemgate.core import types as core


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _bytes(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


def part_to_json(part: core.Part) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": type(part).__name__}
    for name, value in vars(part).items():
        out[name] = _b64(value) if isinstance(value, bytes) else value
    return out


_PART_TYPES: dict[str, type[core.Part]] = {
    cls.__name__: cls
    for cls in (
        core.TextPart,
        core.InlineDataPart,
        core.FileDataPart,
        core.FunctionCallPart,
        core.FunctionResponsePart,
        core.ExecutableCodePart,
        core.CodeExecutionResultPart,
    )
}
_BYTES_FIELDS = {"data", "thought_signature"}


def part_from_json(value: dict[str, Any]) -> core.Part:
    fields = {k: v for k, v in value.items() if k != "kind"}
    for name in _BYTES_FIELDS & fields.keys():
        fields[name] = _bytes(fields[name])
    return _PART_TYPES[value["kind"]](**fields)


def content_to_json(content: core.Content) -> dict[str, Any]:
    return {"role": content.role.value, "parts": [part_to_json(p) for p in content.parts]}


def content_from_json(value: dict[str, Any]) -> core.Content:
    return core.Content(core.Role(value["role"]), tuple(part_from_json(p) for p in value["parts"]))


def tool_to_json(tool: core.Tool) -> dict[str, Any]:
    return {"kind": tool.kind, "spec": tool.spec}


def tool_from_json(value: dict[str, Any]) -> core.Tool:
    return core.Tool(value["kind"], value["spec"])
