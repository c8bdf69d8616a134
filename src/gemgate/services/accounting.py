"""Metering one API call: quota admission, the ledger row, and settlement of what it used.

The API layer opens a Meter when a call is authenticated and its model known, and ends it
exactly once: `done` with the usage, or `failed` with the error (a stream whose client went
away ends CANCELLED). Latency runs from admission to the end; time to first token is the
first streamed chunk's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from gemgate.core.errors import GemgateError, Internal
from gemgate.core.ports import UsageRecord
from gemgate.core.types import StreamChunk, Usage
from gemgate.services.keys import Principal
from gemgate.services.models import strip_resource_prefix
from gemgate.services.pricing import Pricing
from gemgate.services.quotas import QuotaService, counts_tokens
from gemgate.services.usage import UsageLedger

CANCELLED = "CANCELLED"


class Meter:
    def __init__(
        self, accountant: Accountant, principal: Principal, method: str, model: str
    ) -> None:
        self._accountant = accountant
        self.principal = principal
        self._method = method
        self.model = model
        self._started = time.monotonic()
        self._first: float | None = None
        self._ended = False
        self._reserved = 0

    @property
    def project(self) -> str:
        return self.principal.project

    async def reserve(self, prompt_tokens: Callable[[], Awaitable[int]]) -> None:
        """Count a generation's prompt against the key's token limits before it runs.

        `prompt_tokens` is called only for keys with token limits (it renders and tokenizes).
        """
        if counts_tokens(self.principal):
            tokens = await prompt_tokens()
            self._reserved = await self._accountant.quotas.reserve(self.principal, tokens)

    def first_chunk(self) -> None:
        if self._first is None:
            self._first = time.monotonic()

    async def done(self, usage: Usage, model_served: str, deployment: str | None = None) -> None:
        if self._ended:
            return
        cost = self._accountant.pricing.cost(self.model, model_served, usage)
        self._end(usage, model_served, deployment, cost, "OK", "")
        used = usage.total_tokens - self._reserved
        await self._accountant.quotas.settle(self.principal, used, cost)

    def failed(self, error: BaseException) -> None:
        if self._ended:
            return
        if isinstance(error, GemgateError):
            status, message = error.code.value, error.message
        elif isinstance(error, asyncio.CancelledError | GeneratorExit):
            status, message = CANCELLED, "the client went away"
        else:
            status, message = "INTERNAL", f"{type(error).__name__}: {error}"
        self._end(Usage(), "", None, 0.0, status, message)

    def _end(
        self,
        usage: Usage,
        served: str,
        deployment: str | None,
        cost: float,
        status: str,
        error: str,
    ) -> None:
        self._ended = True
        now = time.monotonic()
        self._accountant.ledger.record(
            UsageRecord(
                time=time.time(),
                key_id=self.principal.key_id,
                project=self.principal.project,
                method=self._method,
                model_asked=self.model,
                model_served=served,
                deployment=deployment or (f"local:{served}" if served else ""),
                prompt_tokens=usage.prompt_tokens,
                cached_tokens=usage.cached_tokens,
                candidates_tokens=usage.candidates_tokens,
                thoughts_tokens=usage.thoughts_tokens,
                tool_use_prompt_tokens=usage.tool_use_prompt_tokens,
                cost_usd=cost,
                latency_ms=(now - self._started) * 1000,
                ttft_ms=None if self._first is None else (self._first - self._started) * 1000,
                status=status,
                error=error[:1000],
            )
        )

    async def watch(
        self, chunks: AsyncGenerator[StreamChunk, None]
    ) -> AsyncGenerator[StreamChunk, None]:
        """Pass a generation stream through, ending the meter with how it ended."""
        last: StreamChunk | None = None
        try:
            async for chunk in chunks:
                self.first_chunk()
                last = chunk
                yield chunk
        except BaseException as exc:
            self.failed(exc)
            raise
        finally:
            await chunks.aclose()
        if last is not None and last.usage is not None:
            await self.done(last.usage, last.model_version, last.deployment)
        else:
            self.failed(Internal("the stream ended without usage"))


class Accountant:
    """Opens meters: checks the key's model list and quotas, and records refusals too."""

    def __init__(self, quotas: QuotaService, ledger: UsageLedger, pricing: Pricing) -> None:
        self.quotas = quotas
        self.ledger = ledger
        self.pricing = pricing

    async def admit(self, principal: Principal, method: str, model: str) -> Meter:
        meter = Meter(self, principal, method, strip_resource_prefix(model))
        try:
            await self.quotas.admit(principal, meter.model)
        except GemgateError as exc:
            meter.failed(exc)
            raise
        return meter

    @asynccontextmanager
    async def metered(self, principal: Principal, method: str, model: str) -> AsyncIterator[Meter]:
        """A meter that records the failure of whatever raises inside the block.

        A stream's meter ends in the stream (`watch`); failing it here again is a no-op.
        """
        meter = await self.admit(principal, method, model)
        try:
            yield meter
        except BaseException as exc:
            meter.failed(exc)
            raise
