"""Thought signatures: opaque, tamper-evident tokens on model turns that call functions or
followed thoughts.

A signature is an HMAC-SHA256 (server secret) over the part it rides on: a call's name and
arguments, or an answer's text, in canonical JSON, behind a version tag. A signature that
comes back is verified; a part echoed without one is accepted, as Google accepts it for models
that do not require signatures (local models carry nothing hidden from one turn to the next).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from gemgate.core.errors import InvalidArgument
from gemgate.core.types import FunctionCallPart, TextPart

_VERSION = b"gg1:"


class Signer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, payload: dict[str, object]) -> bytes:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self._secret, canonical.encode("utf-8"), hashlib.sha256).digest()
        return _VERSION + digest

    def sign(self, name: str, args: dict[str, object]) -> bytes:
        return self._sign({"name": name, "args": args})

    def sign_text(self, text: str) -> bytes:
        return self._sign({"text": text})

    def verify(self, part: FunctionCallPart | TextPart, where: str) -> None:
        signature = part.thought_signature
        if signature is None:
            return
        if isinstance(part, FunctionCallPart):
            expected = self.sign(part.name, part.args)
        else:
            expected = self.sign_text(part.text)
        if not hmac.compare_digest(signature, expected):
            raise InvalidArgument(
                f"{where}.thoughtSignature is not valid for this part: it was changed after "
                "the model wrote it, or the signature comes from elsewhere.",
                field=f"{where}.thoughtSignature",
            )
