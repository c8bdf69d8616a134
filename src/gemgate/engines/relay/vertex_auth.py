"""Vertex AI authorisation: a service account's key -> OAuth2 access token (JWT bearer grant).

google-auth signs the assertion (RS256 with the account's private key); the token request
itself goes through gemgate's async HTTP client, so nothing blocks the event loop. Tokens are
reused until a minute before they expire. The token URI comes from the key file (or the
deployment's settings), so tests point it at a loopback token endpoint.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from google.auth import crypt, jwt

from gemgate.core.errors import UpstreamError

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LIFETIME = 3600
_MARGIN = 60.0


class ServiceAccountTokens:
    """Bearer headers for one service account."""

    def __init__(
        self, info: dict[str, Any], client: httpx.AsyncClient, token_uri: str | None = None
    ) -> None:
        self._signer: crypt.Signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]
        self._email = str(info["client_email"])
        self._token_uri = token_uri or str(info["token_uri"])
        self._client = client
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def from_file(
        cls, path: Path, client: httpx.AsyncClient, token_uri: str | None = None
    ) -> ServiceAccountTokens:
        return cls(json.loads(path.read_text(encoding="utf-8")), client, token_uri)

    def assertion(self, now: float) -> str:
        payload = {
            "iss": self._email,
            "scope": SCOPE,
            "aud": self._token_uri,
            "iat": int(now),
            "exp": int(now) + _LIFETIME,
        }
        token: bytes = jwt.encode(self._signer, payload)  # type: ignore[no-untyped-call]
        return token.decode("ascii")

    async def headers(self) -> dict[str, str]:
        async with self._lock:
            if time.time() >= self._expires - _MARGIN:
                await self._refresh()
        return {"Authorization": f"Bearer {self._token}"}

    async def _refresh(self) -> None:
        now = time.time()
        form = {"grant_type": GRANT_TYPE, "assertion": self.assertion(now)}
        try:
            response = await self._client.post(self._token_uri, data=form)
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Vertex AI token endpoint could not be reached ({type(exc).__name__}).",
                status=502,
            ) from exc
        if response.status_code != 200:
            raise UpstreamError(
                f"Vertex AI token request refused ({response.status_code}): {response.text[:200]}",
                status=502 if response.status_code >= 500 else 401,
            )
        data = response.json()
        self._token = str(data["access_token"])
        self._expires = now + float(data.get("expires_in", _LIFETIME))
