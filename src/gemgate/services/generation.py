"""The generation use case: resolve the model, build the prompt, run the candidates, account.

candidateCount > 1 runs that many generations side by side on the engine's parallel slots and
merges their streams; a non-streaming answer is the same stream, aggregated.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, replace

from gemgate.core.errors import Internal, InvalidArgument
from gemgate.core.ports import (
    Engine,
    EngineDelta,
    EngineEvent,
    EngineFinish,
    EngineProvider,
    SamplingParams,
)
from gemgate.core.types import (
    Candidate,
    Content,
    GenerateRequest,
    GenerateResponse,
    GenerationConfig,
    LogprobStep,
    StreamChunk,
    TextPart,
    Usage,
)
from gemgate.services.models import ModelRegistry, ResolvedModel
from gemgate.services.prompting import chat_messages
from gemgate.services.unsupported import reject_unsupported


@dataclass(frozen=True)
class _Plan:
    engine: Engine
    model: ResolvedModel
    prompt: str
    params: tuple[SamplingParams, ...]


class GenerationService:
    def __init__(self, registry: ModelRegistry, engines: EngineProvider) -> None:
        self._registry = registry
        self._engines = engines

    async def count_tokens(
        self, model: str, contents: tuple[Content, ...], system_instruction: Content | None
    ) -> int:
        resolved = self._registry.resolve(model)
        engine = await self._engines.engine(resolved.local.id)
        messages = chat_messages(contents, system_instruction, resolved.local.id)
        return await engine.count_tokens(await engine.render(messages))

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        texts: dict[int, list[str]] = {}
        steps: dict[int, list[LogprobStep]] = {}
        finals: dict[int, Candidate] = {}
        last: StreamChunk | None = None
        async for chunk in self.stream(request):
            last = chunk
            for cand in chunk.candidates:
                texts.setdefault(cand.index, []).extend(
                    p.text for p in cand.parts if isinstance(p, TextPart)
                )
                steps.setdefault(cand.index, []).extend(cand.logprobs or ())
                if cand.finish_reason is not None:
                    finals[cand.index] = cand
        assert last is not None and last.usage is not None  # the stream always ends with usage
        logprobs_on = request.config.response_logprobs
        candidates = tuple(
            Candidate(
                index=i,
                parts=(TextPart("".join(texts.get(i, []))),),
                finish_reason=finals[i].finish_reason,
                logprobs=tuple(steps.get(i, [])) if logprobs_on else None,
            )
            for i in sorted(finals)
        )
        return GenerateResponse(
            candidates, last.usage, last.model_version, last.response_id, last.create_time
        )

    async def stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        plan = await self._plan(request)
        merger = _CandidateMerger(
            model_version=plan.model.local.id,
            response_id=secrets.token_urlsafe(16),
            create_time=time.time(),
            want_logprobs=request.config.response_logprobs,
        )
        async for chunk in merger.run(plan.engine, plan.prompt, plan.params):
            yield chunk

    async def _plan(self, request: GenerateRequest) -> _Plan:
        resolved = self._registry.resolve(request.model)
        reject_unsupported(request, resolved)
        config = request.config
        _check_output_limit(config, resolved)
        engine = await self._engines.engine(resolved.local.id)
        messages = chat_messages(request.contents, request.system_instruction, resolved.local.id)
        prompt = await engine.render(messages)
        base = _sampling(config, resolved)
        params = tuple(
            replace(base, seed=None if base.seed is None else base.seed + i)
            for i in range(config.candidate_count)
        )
        return _Plan(engine, resolved, prompt, params)


def _check_output_limit(config: GenerationConfig, model: ResolvedModel) -> None:
    limit = model.local.max_output_tokens
    if config.max_output_tokens is not None and config.max_output_tokens > limit:
        raise InvalidArgument(
            f"The maximum number of output tokens for models/{model.requested} is {limit}; "
            f"generationConfig.maxOutputTokens is {config.max_output_tokens}.",
            field="generationConfig.maxOutputTokens",
        )


def _sampling(config: GenerationConfig, model: ResolvedModel) -> SamplingParams:
    logprobs = None
    if config.response_logprobs:
        logprobs = config.logprobs or 0
    return SamplingParams(
        max_tokens=config.max_output_tokens or model.local.max_output_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        seed=config.seed,
        stop=config.stop_sequences,
        presence_penalty=config.presence_penalty,
        frequency_penalty=config.frequency_penalty,
        logprobs=logprobs,
    )


_END = object()


class _CandidateMerger:
    """Runs one engine stream per candidate and merges them into response chunks.

    Whatever has arrived by the time the consumer is ready goes out as one chunk, so a slow
    client gets fewer, larger chunks instead of a backlog. Usage rides on the last chunk.
    """

    def __init__(
        self, model_version: str, response_id: str, create_time: float, want_logprobs: bool
    ) -> None:
        self._meta = (model_version, response_id, create_time)
        self._want_logprobs = want_logprobs
        self._queue: asyncio.Queue[tuple[int, EngineEvent | BaseException | object]] = (
            asyncio.Queue()
        )
        self._finishes: dict[int, EngineFinish] = {}

    async def run(
        self, engine: Engine, prompt: str, params: tuple[SamplingParams, ...]
    ) -> AsyncIterator[StreamChunk]:
        tasks = [
            asyncio.create_task(self._pump(i, engine.generate(prompt, p)))
            for i, p in enumerate(params)
        ]
        try:
            while len(self._finishes) < len(tasks):
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                chunk = self._chunk(batch, done_after=len(tasks))
                if chunk is not None:
                    yield chunk
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

    def _chunk(self, batch: list[tuple[int, object]], done_after: int) -> StreamChunk | None:
        texts: dict[int, list[str]] = {}
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
                texts[index].append(item.text)
                steps.setdefault(index, []).extend(item.logprobs)
            elif isinstance(item, EngineFinish):
                self._finishes[index] = item
                finished.add(index)
        candidates = tuple(
            Candidate(
                index=i,
                parts=(TextPart("".join(texts[i])),),
                finish_reason=self._finishes[i].reason if i in finished else None,
                logprobs=tuple(steps.get(i, ())) if self._want_logprobs else None,
            )
            for i in sorted(texts)
        )
        if not candidates:
            return None
        done = len(self._finishes) == done_after
        return StreamChunk(candidates, *self._meta, usage=self._usage() if done else None)

    def _usage(self) -> Usage:
        finishes = [self._finishes[i] for i in sorted(self._finishes)]
        if not finishes:
            return Usage()
        first = finishes[0]
        return Usage(
            prompt_tokens=first.prompt_tokens,
            candidates_tokens=sum(f.completion_tokens for f in finishes),
            cached_tokens=min(first.cached_tokens, first.prompt_tokens),
        )
