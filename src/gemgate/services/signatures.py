"""Thought signatures: opaque, tamper-evident tokens on model turns that call functions.

A signature is an HMAC-SHA256 (server secret) over the call's name and arguments in canonical
JSON, behind a version tag. A signature that comes back is verified; a call echoed without
one is accepted, as Google accepts it for models that do not require signatures (local models
do not reason across calls, so nothing hidden needs carrying).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from gemgate.core.errors import InvalidArgument
from gemgate.core.types import FunctionCallPart

_VERSION = b"gg1:"


class Signer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    def _digest(self, name: str, args: dict[str, object]) -> bytes:
        canonical = json.dumps(
            {"name": name, "args": args}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hmac.new(self._secret, canonical.encode("utf-8"), hashlib.sha256).digest()

    def sign(self, name: str, args: dict[str, object]) -> bytes:
        return _VERSION + self._digest(name, args)

    def verify(self, part: FunctionCallPart, where: str) -> None:
        signature = part.thought_signature
        if signature is None:
            return
        expected = self.sign(part.name, part.args)
        if not hmac.compare_digest(signature, expected):
            raise InvalidArgument(
                f"{where}.thoughtSignature is not valid for this function call: the call was "
                "changed after the model made it, or the signature comes from elsewhere.",
                field=f"{where}.thoughtSignature",
            )
