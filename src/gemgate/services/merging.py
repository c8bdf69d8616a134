"""Runs one engine stream per candidate and merges them into response chunks.

Whatever has arrived by the time the consumer is ready goes out as one chunk, so a slow client
gets fewer, larger chunks instead of a backlog. Usage rides on the last chunk, together with
the last finish reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from itertools import groupby

from gemgate.core.errors import Internal
from gemgate.core.ports import EngineDelta, EngineEvent, EngineFinish, SamplingParams
from gemgate.core.types import (
    Candidate,
    FinishReason,
    LogprobStep,
    Part,
    StreamChunk,
    TextPart,
    Usage,
)
from gemgate.services.shaping import Shaper

_END = object()
Source = Callable[[SamplingParams], AsyncIterator[EngineEvent]]


class CandidateMerger:
    def __init__(
        self,
        model_version: str,
        response_id: str,
        create_time: float,
        want_logprobs: bool,
        shaper: Callable[[], Shaper],
        include_thoughts: bool = False,
        sign_text: Callable[[str], bytes] | None = None,
        interval: float = 0.0,
    ) -> None:
        self._interval = interval
        self._sign_text = sign_text
        self._thought_seen: set[int] = set()
        self._signed: set[int] = set()
        self._meta = (model_version, response_id, create_time)
        self._want_logprobs = want_logprobs
        self._include_thoughts = include_thoughts
        self._new_shaper = shaper
        self._shapers: dict[int, Shaper] = {}
        self._queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()
        self._finishes: dict[int, EngineFinish] = {}

    async def run(
        self, source: Source, params: tuple[SamplingParams, ...]
    ) -> AsyncGenerator[StreamChunk, None]:
        self._shapers = {i: self._new_shaper() for i in range(len(params))}
        tasks = [asyncio.create_task(self._pump(i, source(p))) for i, p in enumerate(params)]
        try:
            while len(self._finishes) < len(tasks):
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                chunk = self._chunk(batch, total=len(tasks))
                if chunk is not None:
                    yield chunk
                    if chunk.usage is None and self._interval > 0:
                        # Let tokens gather: one chunk per interval, not one per token,
                        # keeps per-token Python work off the cores the engine decodes on.
                        await asyncio.sleep(self._interval)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _pump(self, index: int, events: AsyncIterator[EngineEvent]) -> None:
        try:
            async for event in events:
                self._queue.put_nowait((index, event))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._queue.put_nowait((index, exc))
        finally:
            self._queue.put_nowait((index, _END))

    def _chunk(self, batch: list[tuple[int, object]], total: int) -> StreamChunk | None:
        texts: dict[int, list[EngineDelta]] = {}
        steps: dict[int, list[LogprobStep]] = {}
        finished: set[int] = set()
        for index, item in batch:
            if isinstance(item, BaseException):
                raise item
            if item is _END:
                if index not in self._finishes:
                    raise Internal("the engine ended a generation without finishing it")
                continue
            texts.setdefault(index, [])
            if isinstance(item, EngineDelta):
                texts[index].append(item)
                steps.setdefault(index, []).extend(item.logprobs)
            elif isinstance(item, EngineFinish):
                self._finishes[index] = item
                finished.add(index)
        candidates = tuple(
            candidate
            for i in sorted(texts)
            if (candidate := self._candidate(i, texts[i], steps.get(i, []), finished))
        )
        if not candidates:
            return None
        usage = self._usage() if len(self._finishes) == total else None
        return StreamChunk(candidates, *self._meta, usage=usage)

    def _parts(self, index: int, deltas: list[EngineDelta]) -> tuple[Part, ...]:
        """Thoughts (shown only when asked) and answer text, in the order they came."""
        parts: list[Part] = []
        for thought, run in groupby(deltas, key=lambda d: d.thought):
            group = list(run)
            text = "".join(d.text for d in group)
            if thought:
                self._thought_seen.add(index)
                if self._include_thoughts and text:
                    parts.append(TextPart(text, thought=True))
            elif not any(d.parts for d in group):
                parts.extend(self._signed_first_answer(index, self._shapers[index].feed(text)))
            else:  # ready-made parts (executed code, its result) keep their place in the text
                for delta in group:
                    fed = self._shapers[index].feed(delta.text)
                    parts.extend(self._signed_first_answer(index, fed))
                    parts.extend(delta.parts)
        return tuple(parts)

    def _signed_first_answer(self, index: int, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        """A turn that followed thoughts carries a signature on its first answer text part."""
        if self._sign_text is None or index not in self._thought_seen or index in self._signed:
            return parts
        out = list(parts)
        for i, part in enumerate(out):
            if isinstance(part, TextPart) and not part.thought and part.text:
                out[i] = TextPart(part.text, thought_signature=self._sign_text(part.text))
                self._signed.add(index)
                break
        return tuple(out)

    def _candidate(
        self, index: int, deltas: list[EngineDelta], steps: list[LogprobStep], finished: set[int]
    ) -> Candidate | None:
        shaper = self._shapers[index]
        parts = self._parts(index, deltas)
        reason: FinishReason | None = None
        if index in finished:
            extra, reason = shaper.finish(self._finishes[index].reason)
            parts += extra
        if not parts and reason is None and not steps:
            return None
        return Candidate(
            index=index,
            parts=parts,
            finish_reason=reason,
            logprobs=tuple(steps) if self._want_logprobs else None,
        )

    def _usage(self) -> Usage:
        finishes = [self._finishes[i] for i in sorted(self._finishes)]
        first = finishes[0]
        return Usage(
            prompt_tokens=first.prompt_tokens,
            candidates_tokens=sum(f.completion_tokens for f in finishes),
            cached_tokens=min(first.cached_tokens, first.prompt_tokens),
            thoughts_tokens=sum(f.thoughts_tokens for f in finishes),
            tool_use_prompt_tokens=sum(f.tool_use_prompt_tokens for f in finishes),
        )
