"""One GGUF model served by an in-process xllamacpp.Server.

xllamacpp's calls are thread-safe and blocking: every generation runs on a worker thread of a
shared pool and streams back through a callback onto the event loop. The engine's own loopback
HTTP listener (which xllamacpp always opens) is locked with a random key and used only for the
template and tokenizer endpoints, which the Python binding does not expose.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import xllamacpp

from gemgate.core.errors import GemgateError, Internal, InvalidArgument, Unavailable
from gemgate.core.ports import (
    ChatMessage,
    EngineCapabilities,
    EngineDelta,
    EngineEvent,
    EngineFinish,
    OutputConstraint,
    SamplingParams,
)
from gemgate.core.types import FinishReason, LogprobStep, TokenLogprob
from gemgate.engines.llamacpp.grammar import checked_grammar
from gemgate.engines.llamacpp.handoff import HandOff

_DONE = object()
RENDER_CACHE_SIZE = 256
THINK_TAG = "<think>"


@dataclass(frozen=True)
class EngineOptions:
    context_tokens: int = 4096
    n_parallel: int = 4
    n_threads: int = 2
    prompt_cache_mib: int = 256
    chat_template: str | None = None
    log_level: int = -1
    native_reasoning: bool | None = None  # None: detect a <think> section in the template
    state_dir: Path | None = None  # where prefix KV states are saved (explicit caches)
    handoff_interval: float = 0.0  # s between hand-offs of tokens to the loop (0: each token)


def _params(path: Path, options: EngineOptions, key: str) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_parallel = options.n_parallel
    params.n_ctx = options.context_tokens * options.n_parallel
    params.cpuparams.n_threads = options.n_threads
    params.cpuparams_batch.n_threads = options.n_threads
    params.cache_ram_mib = options.prompt_cache_mib
    params.endpoint_metrics = True
    params.api_keys = [key]
    params.verbosity = options.log_level
    if options.chat_template:
        params.chat_template = options.chat_template
    if options.state_dir is not None:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        params.slot_save_path = f"{options.state_dir}/"  # llama.cpp joins without a separator
        params.endpoint_slots = True
    return params


class LlamaCppEngine:
    """Implements core.ports.Engine for one loaded GGUF."""

    def __init__(
        self, server: Any, key: str, executor: Executor, capabilities: EngineCapabilities
    ) -> None:
        self._server = server
        self._executor = executor
        self._http = httpx.AsyncClient(
            base_url=str(server.listening_address),
            headers={"Authorization": f"Bearer {key}"},
            timeout=30.0,
        )
        self._capabilities = capabilities
        self._state_dir: Path | None = None
        self._renders: OrderedDict[tuple[tuple[ChatMessage, ...], bool], str] = OrderedDict()
        self._handoff_interval = 0.0

    @classmethod
    def load(cls, path: Path, options: EngineOptions, executor: Executor) -> LlamaCppEngine:
        """Blocking: loads the weights and reads the template. Call from a worker thread."""
        key = secrets.token_hex(16)
        server = xllamacpp.Server(_params(path, options, key))
        native = options.native_reasoning
        if native is None:
            props = httpx.get(
                f"{server.listening_address}/props",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30.0,
            ).json()
            native = THINK_TAG in str(props.get("chat_template", ""))
        capabilities = EngineCapabilities(
            context_tokens=options.context_tokens, native_reasoning=native
        )
        engine = cls(server, key, executor, capabilities)
        engine._state_dir = options.state_dir
        engine._handoff_interval = options.handoff_interval
        return engine

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._capabilities

    async def aclose(self) -> None:
        await self._http.aclose()

    async def render(self, messages: list[ChatMessage], add_generation_prompt: bool = True) -> str:
        # A template is a pure function of the messages: remember recent renders, so a
        # repeated or retried conversation skips the round trip to the engine's listener.
        key = (tuple(messages), add_generation_prompt)
        if (known := self._renders.get(key)) is not None:
            self._renders.move_to_end(key)
            return known
        body = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "add_generation_prompt": add_generation_prompt,
        }
        reply = await self._local_call("/apply-template", body)
        prompt = str(reply["prompt"])
        self._renders[key] = prompt
        if len(self._renders) > RENDER_CACHE_SIZE:
            self._renders.popitem(last=False)
        return prompt

    async def count_tokens(self, prompt: str) -> int:
        # The completion endpoint tokenizes with special tokens added (BOS where the model
        # wants one); ask the tokenizer for exactly that so counts match generation's.
        reply = await self._local_call("/tokenize", {"content": prompt, "add_special": True})
        return len(reply["tokens"])

    async def save_state(self, prompt: str, name: str) -> int:
        """Prefill `prompt` on one slot and save that slot's KV state as `name`.

        Returns the tokens saved. The slot is pinned for the prefill; the save follows at once.
        """
        slot = await self._idle_slot()
        params = SamplingParams(max_tokens=1, temperature=0.0, slot=slot)
        async for _ in self.generate(prompt, params):
            pass
        reply = await self._local_call(f"/slots/{slot}?action=save", {"filename": name})
        return int(reply.get("n_saved", 0))

    async def restore_state(self, name: str) -> int | None:
        """Load a saved KV state into an idle slot; the slot id, or None if it is gone."""
        slot = await self._idle_slot()
        try:
            await self._local_call(f"/slots/{slot}?action=restore", {"filename": name})
        except GemgateError:
            return None
        return slot

    def discard_state(self, name: str) -> None:
        if self._state_dir is not None:
            (self._state_dir / name).unlink(missing_ok=True)

    async def _idle_slot(self) -> int:
        try:
            reply = await self._http.get("/slots")
            slots = reply.json() if reply.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            slots = []
        idle = [s["id"] for s in slots if isinstance(s, dict) and not s.get("is_processing")]
        return int(idle[-1]) if idle else 0

    def check_constraint(self, constraint: OutputConstraint) -> None:
        checked_grammar(constraint)

    def busy_slots(self) -> int:
        text = str(self._server.handle_metrics())
        for line in text.splitlines():
            if line.startswith("llamacpp:requests_processing"):
                return int(float(line.split()[-1]))
        return 0

    async def _local_call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = await self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"local engine did not answer: {exc}") from exc
        if reply.status_code != 200:
            raise _engine_error(_error_of(reply))
        data: dict[str, Any] = reply.json()
        return data

    async def generate(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        loop = asyncio.get_running_loop()
        handoff = HandOff(loop, self._handoff_interval)
        stop = threading.Event()

        def post(item: object, urgent: bool) -> None:
            try:
                handoff.put(item, urgent)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stop.set()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            post(chunk, _ends(chunk))
            return stop.is_set()

        def run() -> None:
            try:
                self._server.handle_completions(_request_body(prompt, params), on_chunk)
            except Exception as exc:  # surfaced to the awaiting coroutine, never swallowed
                post(exc, True)
            finally:
                post(_DONE, True)

        loop.run_in_executor(self._executor, run)
        decoder = _ChunkDecoder(params.logprobs)
        streaming = False  # pace the hand-offs once text flows: the first token goes at once
        try:
            while True:
                for item in await handoff.take(paced=streaming):
                    if item is _DONE:
                        return
                    if isinstance(item, BaseException):
                        raise Internal(f"local engine failed: {item}") from item
                    for event in decoder.feed(cast(dict[str, Any], item)):
                        streaming = streaming or isinstance(event, EngineDelta)
                        yield event
        finally:
            stop.set()


def _ends(chunk: dict[str, Any]) -> bool:
    """Whether a chunk finishes its generation (so it goes to the loop at once)."""
    if "error" in chunk or chunk.get("usage"):
        return True
    return any(choice.get("finish_reason") for choice in chunk.get("choices") or [])


def _request_body(prompt: str, params: SamplingParams) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": prompt,
        "max_tokens": params.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        "cache_prompt": True,
    }
    optional = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "seed": params.seed,
        "presence_penalty": params.presence_penalty,
        "frequency_penalty": params.frequency_penalty,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if params.stop:
        body["stop"] = list(params.stop)
    if params.logprobs is not None:
        body["logprobs"] = max(params.logprobs, 1)
    if params.constraint is not None:
        body["grammar"] = checked_grammar(params.constraint)
    if params.slot is not None:
        body["id_slot"] = params.slot
    return body


class _ChunkDecoder:
    """Turns OpenAI-completion stream chunks from llama.cpp into engine events."""

    def __init__(self, top_n: int | None) -> None:
        self._top_n = top_n
        self._finish: FinishReason | None = None

    def feed(self, chunk: dict[str, Any]) -> list[EngineEvent]:
        if "error" in chunk:
            raise _engine_error(chunk["error"])
        events: list[EngineEvent] = []
        for choice in chunk.get("choices") or []:
            text = choice.get("text") or ""
            steps = self._logprobs(choice.get("logprobs"))
            if text or steps:
                events.append(EngineDelta(text=text, logprobs=steps))
            if choice.get("finish_reason"):
                self._finish = _FINISH.get(choice["finish_reason"], FinishReason.OTHER)
        usage = chunk.get("usage")
        if usage:
            details = usage.get("prompt_tokens_details") or {}
            events.append(
                EngineFinish(
                    reason=self._finish or FinishReason.STOP,
                    prompt_tokens=int(usage.get("prompt_tokens", 0)),
                    completion_tokens=int(usage.get("completion_tokens", 0)),
                    cached_tokens=int(details.get("cached_tokens", 0)),
                )
            )
        return events

    def _logprobs(self, raw: dict[str, Any] | None) -> tuple[LogprobStep, ...]:
        if self._top_n is None or not raw:
            return ()
        return tuple(
            LogprobStep(
                chosen=_token_logprob(item),
                top=tuple(_token_logprob(t) for t in item.get("top_logprobs", [])[: self._top_n]),
            )
            for item in raw.get("content") or []
        )


def _token_logprob(item: dict[str, Any]) -> TokenLogprob:
    return TokenLogprob(
        token=str(item.get("token", "")),
        token_id=int(item.get("id", -1)),
        logprob=float(item.get("logprob", 0.0)),
    )


_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.MAX_TOKENS}


def _error_of(reply: httpx.Response) -> dict[str, Any]:
    try:
        error = reply.json().get("error")
    except ValueError:
        error = None
    if isinstance(error, dict):
        return error
    return {"code": reply.status_code, "message": reply.text[:200]}


def _engine_error(error: dict[str, Any]) -> GemgateError:
    kind = error.get("type", "")
    if kind == "exceed_context_size_error":
        return InvalidArgument(
            f"The input token count ({error.get('n_prompt_tokens')}) exceeds the maximum "
            f"number of tokens allowed ({error.get('n_ctx')}).",
            field="contents",
        )
    message = str(error.get("message", "local engine error"))
    if error.get("code") == 400:
        return InvalidArgument(message)
    if error.get("code") == 503:
        return Unavailable(message)
    return Internal(message)
