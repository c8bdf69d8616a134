"""Turning a candidate's generated text into response parts as it streams.

Plain generations pass text through. With callable functions, the first character decides
(the grammar lets free text begin with anything but `<`): text streams as it comes, a call is
held until it is complete and then leaves as functionCall parts, signed.
"""

from __future__ import annotations

import json
import secrets
from typing import Protocol

from gemgate.core.types import FinishReason, FunctionCallPart, Part, TextPart
from gemgate.services.signatures import Signer
from gemgate.services.tools import parse_calls


class Shaper(Protocol):
    def feed(self, text: str) -> tuple[Part, ...]: ...

    def finish(self, reason: FinishReason) -> tuple[tuple[Part, ...], FinishReason]: ...


class TextShaper:
    def feed(self, text: str) -> tuple[Part, ...]:
        return (TextPart(text),) if text else ()

    def finish(self, reason: FinishReason) -> tuple[tuple[Part, ...], FinishReason]:
        return (), reason


class CallShaper:
    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._buffer = ""
        self._mode: str | None = None  # None until the first character, then "text" or "calls"

    def feed(self, text: str) -> tuple[Part, ...]:
        if self._mode == "text":
            return (TextPart(text),) if text else ()
        self._buffer += text
        if self._mode is None and self._buffer:
            self._mode = "calls" if self._buffer.startswith("<") else "text"
            if self._mode == "text":
                out, self._buffer = self._buffer, ""
                return (TextPart(out),)
        return ()

    def finish(self, reason: FinishReason) -> tuple[tuple[Part, ...], FinishReason]:
        if self._mode != "calls":
            return (), reason
        if reason is FinishReason.MAX_TOKENS:
            return (), reason  # the call was cut off: there is nothing valid to return
        try:
            calls = parse_calls(self._buffer)
        except (json.JSONDecodeError, KeyError, TypeError):
            return (), FinishReason.MALFORMED_FUNCTION_CALL
        parts = tuple(
            FunctionCallPart(
                name=name,
                args=args,
                id=f"call_{secrets.token_hex(8)}",
                thought_signature=self._signer.sign(name, args),
            )
            for name, args in calls
        )
        return parts, FinishReason.STOP
