"""The exact-response cache: the same request from the same project gets the stored answer.

Keyed by a canonical hash of (project, model id as asked, contents, system instruction, tools,
tool config, generation config). Only reproducible requests are cached (temperature 0, or a
seed), so a hit returns what the model would have said anyway. A hit reports every prompt token
as cached: none was prefilled. One project never receives another project's answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from gemgate.core.serialize import content_to_json, tool_to_json
from gemgate.core.types import GenerateRequest, GenerateResponse


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


class ResponseCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, GenerateResponse]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._max > 0 and self._ttl > 0

    def get(self, key: str) -> GenerateResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, response = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return response

    def put(self, key: str, response: GenerateResponse) -> None:
        if not self.enabled:
            return
        self._entries[key] = (self._clock(), response)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
