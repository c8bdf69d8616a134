"""The generation use case: resolve the model, build the prompt, run the candidates, account.

candidateCount > 1 runs that many generations side by side on the engine's parallel slots and
merges their streams; a non-streaming answer is the same stream, aggregated.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, replace

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import (
    CodeBlockConstraint,
    EngineEvent,
    EngineProvider,
    OutputConstraint,
    ResponseCache,
    SamplingParams,
    SandboxFile,
)
from gemgate.core.types import (
    Candidate,
    Content,
    FunctionCallPart,
    GenerateRequest,
    GenerateResponse,
    GenerationConfig,
    LogprobStep,
    Part,
    Role,
    StreamChunk,
    TextPart,
)
from gemgate.services.caches import CacheService
from gemgate.services.code_execution import (
    CodeExecution,
    CodeLoop,
    code_prompt,
    requested,
    sandbox_files,
)
from gemgate.services.keys import OPEN_PROJECT
from gemgate.services.media import MediaResolver, needs_resolution
from gemgate.services.merging import CandidateMerger, Source
from gemgate.services.models import ModelRegistry, ResolvedModel, strip_resource_prefix
from gemgate.services.prompting import chat_messages
from gemgate.services.reasoning import scaffold_for, think_then_answer
from gemgate.services.relaying import Relay
from gemgate.services.response_cache import reproducible, request_key
from gemgate.services.shaping import CallShaper, Shaper, TextShaper
from gemgate.services.signatures import Signer
from gemgate.services.structured import JSON_MIME, response_constraint
from gemgate.services.thinking import DYNAMIC, plan_thinking
from gemgate.services.tools import ToolPlan, plan_tools, tool_constraint, tool_prompt


@dataclass(frozen=True)
class _Plan:
    model: ResolvedModel
    source: Source
    params: tuple[SamplingParams, ...]
    shaper: Callable[[], Shaper]
    include_thoughts: bool


class GenerationService:
    def __init__(
        self,
        registry: ModelRegistry,
        engines: EngineProvider,
        signer: Signer,
        caches: CacheService | None = None,
        responses: ResponseCache | None = None,
        stream_interval: float = 0.0,
        media: MediaResolver | None = None,
        relay: Relay | None = None,
        code: CodeExecution | None = None,
    ) -> None:
        self._relay = relay  # model ids in the routing table are relayed upstream
        self._code = code
        self._registry = registry
        self._engines = engines
        self._signer = signer
        self._caches = caches
        self._responses = responses
        self._stream_interval = stream_interval
        self._media = media

    async def count_tokens(
        self,
        model: str,
        contents: tuple[Content, ...],
        system_instruction: Content | None,
        project: str = OPEN_PROJECT,
    ) -> int:
        if self._relay is not None and self._relay.serves(model):
            return await self._relay.count_tokens(
                GenerateRequest(model, contents, system_instruction)
            )
        resolved = self._registry.resolve(model)
        contents, system_instruction = await self._resolve_media(
            contents, system_instruction, project, model
        )
        engine = await self._engines.engine(resolved.local.id)
        messages = chat_messages(contents, system_instruction, resolved.local.id)
        return await engine.count_tokens(await engine.render(messages))

    def relays(self, model: str) -> bool:
        """Whether this model id is answered by an upstream (the routing table) or locally."""
        return self._relay is not None and self._relay.serves(model)

    async def prompt_tokens(self, request: GenerateRequest, project: str = OPEN_PROJECT) -> int:
        """What countTokens says of the request's contents and system instruction.

        Quotas reserve this before the request runs (tools and a cached prefix not included).
        A relayed request reserves nothing: asking the upstream first would cost a round trip
        (and OpenAI-compatible servers cannot count); its real usage settles the quota.
        """
        if self._relay is not None and self._relay.serves(request.model):
            return 0
        return await self.count_tokens(
            request.model, request.contents, request.system_instruction, project
        )

    async def generate(
        self, request: GenerateRequest, project: str = OPEN_PROJECT
    ) -> GenerateResponse:
        if self._relay is not None and self._relay.serves(request.model):
            return await self._relay.generate(request, project)
        chunks = [chunk async for chunk in self.stream(request, project)]
        return self._aggregate(chunks, request.config.response_logprobs)

    def _aggregate(self, chunks: list[StreamChunk], logprobs_on: bool) -> GenerateResponse:
        parts: dict[int, list[Part]] = {}
        steps: dict[int, list[LogprobStep]] = {}
        finals: dict[int, Candidate] = {}
        for chunk in chunks:
            for cand in chunk.candidates:
                parts.setdefault(cand.index, []).extend(cand.parts)
                steps.setdefault(cand.index, []).extend(cand.logprobs or ())
                if cand.finish_reason is not None:
                    finals[cand.index] = cand
        last = chunks[-1]
        assert last.usage is not None  # the stream always ends with usage
        candidates = tuple(
            Candidate(
                index=i,
                parts=_joined(parts.get(i, []), self._signer.sign_text),
                finish_reason=finals[i].finish_reason,
                logprobs=tuple(steps.get(i, [])) if logprobs_on else None,
            )
            for i in sorted(finals)
        )
        return GenerateResponse(
            candidates, last.usage, last.model_version, last.response_id, last.create_time
        )

    async def stream(
        self, request: GenerateRequest, project: str = OPEN_PROJECT
    ) -> AsyncGenerator[StreamChunk, None]:
        if self._relay is not None and self._relay.serves(request.model):
            async for chunk in self._relay.stream(request, project):
                yield chunk
            return
        explicit_tokens, slot = 0, None
        if request.cached_content:
            if self._caches is None:
                raise NotFound(f"CachedContent not found: {request.cached_content}")
            request, explicit_tokens, slot = await self._caches.apply(project, request)
        files = None
        if requested(request, enabled=self._code is not None) and self._code is not None:
            # Before media resolution turns uploaded files into prompt text.
            files = await sandbox_files(request.contents, self._code.files, project)
        contents, system = await self._resolve_media(
            request.contents, request.system_instruction, project, request.model
        )
        request = replace(request, contents=contents, system_instruction=system)
        # A stored answer means this very request was valid before: serve it before planning.
        # Executed code may read the clock or randomness: its answers are not stored.
        key = None
        cacheable = files is None and reproducible(request)
        if self._responses is not None and self._responses.enabled and cacheable:
            key = request_key(project, strip_resource_prefix(request.model), request)
            if (hit := await self._responses.get(project, key)) is not None:
                yield _replay(hit)
                return
        plan = await self._plan(request, files)
        if slot is not None:  # the first candidate runs where the cache's state was loaded
            plan = replace(plan, params=(replace(plan.params[0], slot=slot), *plan.params[1:]))
        merger = CandidateMerger(
            model_version=plan.model.local.id,
            response_id=secrets.token_urlsafe(16),
            create_time=time.time(),
            want_logprobs=request.config.response_logprobs,
            shaper=plan.shaper,
            include_thoughts=plan.include_thoughts,
            sign_text=self._signer.sign_text,
            interval=self._stream_interval,
        )
        chunks: list[StreamChunk] = []
        async for chunk in merger.run(plan.source, plan.params):
            if explicit_tokens and chunk.usage is not None:
                cached = min(explicit_tokens, chunk.usage.cached_tokens)
                chunk = replace(chunk, usage=replace(chunk.usage, cached_tokens=cached))
            chunks.append(chunk)
            yield chunk
        if key is not None and self._responses is not None:
            response = self._aggregate(chunks, request.config.response_logprobs)
            await self._responses.put(project, key, response)

    async def _plan(
        self, request: GenerateRequest, files: tuple[SandboxFile, ...] | None = None
    ) -> _Plan:
        resolved = self._registry.resolve(request.model)
        config = request.config
        _check_output_limit(config, resolved)
        thinking = plan_thinking(config, resolved, resolved.default_thinking_budget)
        tools = plan_tools(request)
        self._verify_signatures(request.contents)
        constraint = _constraint(config, tools, files is not None)
        engine = await self._engines.engine(resolved.local.id)
        if constraint is not None:
            engine.check_constraint(constraint)
        section = tool_prompt(tools) if tools.calls_possible else None
        if files is not None:
            section = code_prompt(files)
        messages = chat_messages(
            request.contents, request.system_instruction, resolved.local.id, section
        )
        prompt = await engine.render(messages)
        base = replace(_sampling(config, resolved), constraint=constraint)
        params = tuple(
            replace(base, seed=None if base.seed is None else base.seed + i)
            for i in range(config.candidate_count)
        )
        signer = self._signer
        shaper: Callable[[], Shaper] = (
            (lambda: CallShaper(signer)) if tools.calls_possible else TextShaper
        )
        native = engine.capabilities.native_reasoning
        budget = _effective_budget(thinking.budget, native, resolved)
        scaffold = scaffold_for(native, prompt)

        def source(p: SamplingParams) -> AsyncIterator[EngineEvent]:
            if files is not None and self._code is not None:
                loop = CodeLoop(engine, self._code, files, budget, scaffold)
                return loop.run(prompt, replace(p, constraint=None))
            return think_then_answer(engine, prompt, p, budget, scaffold)

        return _Plan(resolved, source, params, shaper, thinking.include_thoughts)

    async def _resolve_media(
        self, contents: tuple[Content, ...], system: Content | None, project: str, model: str
    ) -> tuple[tuple[Content, ...], Content | None]:
        """fileData and document parts as text, through the one media pipeline."""
        if self._media is None or not needs_resolution(contents, system):
            return contents, system
        local_id = self._registry.resolve(model).local.id
        return await self._media.resolve(contents, system, project, local_id)

    def _verify_signatures(self, contents: tuple[Content, ...]) -> None:
        for i, content in enumerate(contents):
            if content.role is not Role.MODEL:
                continue
            for j, part in enumerate(content.parts):
                if isinstance(part, FunctionCallPart | TextPart) and not getattr(
                    part, "thought", False
                ):
                    self._signer.verify(part, f"contents[{i}].parts[{j}]")


def _replay(hit: GenerateResponse) -> StreamChunk:
    """A stored answer, served again: nothing was prefilled, so every prompt token is cached."""
    usage = replace(hit.usage, cached_tokens=hit.usage.prompt_tokens)
    return StreamChunk(
        hit.candidates, hit.model_version, secrets.token_urlsafe(16), time.time(), usage
    )


def _effective_budget(budget: int, native: bool, model: ResolvedModel) -> int:
    """Dynamic means the model decides: native reasoners think, the others answer directly.

    A thinking pass never takes more than half the context window, so the answer that follows
    it always has room.
    """
    cap = model.local.context_tokens // 2
    if budget == DYNAMIC:
        return min(model.local.max_output_tokens, cap) if native else 0
    return min(budget, cap)


def _constraint(
    config: GenerationConfig, tools: ToolPlan, code: bool = False
) -> OutputConstraint | None:
    if code:
        shaped = config.response_mime_type not in (None, "text/plain")
        if tools.calls_possible or shaped or config.response_json_schema is not None:
            raise InvalidArgument(
                "codeExecution together with functionDeclarations or a responseMimeType / "
                "responseSchema is not supported by this server yet.",
                field="tools",
            )
        return CodeBlockConstraint(allow_code=True, field="tools")
    if not tools.calls_possible:
        return response_constraint(config)
    if config.response_mime_type == JSON_MIME:
        raise InvalidArgument(
            f"Function calling with a response mime type: '{JSON_MIME}' is unsupported.",
            field="generationConfig.responseMimeType",
        )
    return tool_constraint(tools)


def _joined(parts: list[Part], sign_text: Callable[[str], bytes]) -> tuple[Part, ...]:
    """Adjacent text deltas of one kind (thought or answer) become one part.

    A signed answer text stays signed, over the whole joined text.
    """
    out: list[Part] = []
    for part in parts:
        last = out[-1] if out else None
        same_kind = (
            isinstance(part, TextPart)
            and isinstance(last, TextPart)
            and last.thought == part.thought
        )
        if same_kind and isinstance(last, TextPart) and isinstance(part, TextPart):
            signed = last.thought_signature is not None or part.thought_signature is not None
            text = last.text + part.text
            out[-1] = TextPart(text, last.thought, sign_text(text) if signed else None)
        else:
            out.append(part)
    return tuple(out) or (TextPart(""),)


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
