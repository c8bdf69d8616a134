"""The exact-response cache's rules: which requests it may answer, and under which key.

Keyed by a canonical hash of (project, model id as asked, contents, system instruction, tools,
tool config, generation config). Only reproducible requests are cached (temperature 0, or a
seed), so a hit returns what the model would have said anyway. A hit reports every prompt token
as cached: none was prefilled. One project never receives another project's answer. Where the
answers are kept is a core.ports.ResponseCache (in process, or Redis shared by replicas).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from gemgate.core.serialize import content_to_json, tool_to_json
from gemgate.core.types import GenerateRequest


def _default(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not serializable: {type(value).__name__}")


def reproducible(request: GenerateRequest) -> bool:
    config = request.config
    return config.temperature == 0 or config.seed is not None


def request_key(project: str, model: str, request: GenerateRequest) -> str:
    canonical: dict[str, Any] = {
        "project": project,
        "model": model,
        "contents": [content_to_json(c) for c in request.contents],
        "system": content_to_json(request.system_instruction)
        if request.system_instruction
        else None,
        "tools": [tool_to_json(t) for t in request.tools],
        "tool_config": request.tool_config,
        "config": dataclasses.asdict(request.config),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
