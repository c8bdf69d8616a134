"""The code-execution tool loop, for every local model.

A round's output is prose and, at most, one fenced Python block (the engine's grammar makes
the block well formed and ends the round when it closes). gemgate runs the block in the
sandbox (core.ports.CodeRunner), shows the model the result as a fenced `output` block right
after its code, and lets it continue, up to `max_rounds` executions; the round after the last
one may write prose only. Prose streams as it comes; the executableCode part leaves when its
block closes, the codeExecutionResult part (and any figures) when the code has run.
Files of the request (inline or uploaded) are placed in the sandbox's working directory.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import (
    CodeBlockConstraint,
    CodeRun,
    CodeRunner,
    Engine,
    EngineDelta,
    EngineEvent,
    EngineFinish,
    SamplingParams,
    SandboxFile,
)
from gemgate.core.types import (
    CodeExecutionResultPart,
    Content,
    ExecutableCodePart,
    FileDataPart,
    FinishReason,
    GenerateRequest,
    InlineDataPart,
    Part,
    Role,
)
from gemgate.services.files import FileService
from gemgate.services.reasoning import Scaffold, answer_prompt, think_then_answer

TOOL = "codeExecution"
FENCE = "```"
RESULT_OPEN, RESULT_CLOSE = "\n```output\n", "```\n"
# The model reads at most this much of an output (its head and tail); the response part
# carries all of it. A long output would otherwise crowd the answer out of the context.
SHOWN_OUTPUT_CHARS = 2000


@dataclass(frozen=True)
class CodeExecution:
    """What the deployment allows: the sandbox and how many executions one answer may run."""

    runner: CodeRunner
    max_rounds: int
    files: FileService | None = None


def requested(request: GenerateRequest, enabled: bool) -> bool:
    """Whether the request declares the tool; a 400 when this deployment turned it off."""
    for i, tool in enumerate(request.tools):
        if tool.kind == TOOL:
            if not enabled:
                raise InvalidArgument(
                    f"tools[{i}].codeExecution is turned off on this server.",
                    field=f"tools[{i}].codeExecution",
                )
            return True
    return False


def code_prompt(files: Sequence[SandboxFile]) -> str:
    """The system-turn section that tells the model how to run code."""
    listed = ""
    if files:
        names = ", ".join(f.name for f in files)
        listed = f" These files are in the working directory: {names}."
    return (
        "You can run Python code. To run code, write it in a ```python block; it runs and "
        "its output comes back in an ```output block, after which you continue. Use print() "
        f"to show results.{listed}"
    )


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:100]


def _file_name(display: str | None, mime: str | None, index: int, taken: set[str]) -> str:
    name = _safe_name(display or "")
    if not name:
        ext = mimetypes.guess_extension((mime or "").split(";")[0].strip()) or ".bin"
        name = f"input_file_{index}{ext}"
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        candidate = f"{stem}_{n}.{ext}" if dot else f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


async def sandbox_files(
    contents: tuple[Content, ...], files: FileService | None, project: str
) -> tuple[SandboxFile, ...]:
    """The caller's inline and uploaded files, named as the code will open them."""
    out: list[SandboxFile] = []
    taken: set[str] = set()
    for i, content in enumerate(contents):
        if content.role is not Role.USER:
            continue
        for j, part in enumerate(content.parts):
            if isinstance(part, InlineDataPart):
                name = _file_name(part.display_name, part.mime_type, len(out), taken)
                out.append(SandboxFile(name, part.data))
            elif isinstance(part, FileDataPart) and files is not None:
                field = f"contents[{i}].parts[{j}].fileData.fileUri"
                stored = files.get(project, part.file_uri, field)
                name = _file_name(stored.display_name, stored.mime_type, len(out), taken)
                out.append(SandboxFile(name, await files.read(stored)))
    return tuple(out)


class _Splitter:
    """Separates a round's prose (streamed at once) from its code (held until it closes)."""

    def __init__(self) -> None:
        self.text = ""
        self._sent = 0

    def feed(self, delta: str) -> str:
        self.text += delta
        fence = self.text.find(FENCE)
        # Trailing backticks may be the start of a fence: hold them until the next delta.
        end = fence if fence >= 0 else len(self.text.rstrip("`"))
        out = self.text[self._sent : end] if end > self._sent else ""
        self._sent = max(self._sent, end)
        return out

    def code(self) -> str | None:
        start = self.text.find(CodeBlockConstraint.FENCE_OPEN)
        body = start + len(CodeBlockConstraint.FENCE_OPEN)
        closed = start >= 0 and len(self.text) >= body + len(FENCE) and self.text.endswith(FENCE)
        return self.text[body : -len(FENCE)] if closed else None

    def unsent(self) -> str:
        return self.text[self._sent :]


def result_parts(
    outcome: str, output: str, images: Sequence[tuple[str, bytes]]
) -> tuple[Part, ...]:
    figures = tuple(InlineDataPart(mime, data) for mime, data in images)
    return (CodeExecutionResultPart(outcome, output), *figures)


def render_code(code: str) -> str:
    """A code part as the model wrote it."""
    return f"{CodeBlockConstraint.FENCE_OPEN}{code}{FENCE}"


def render_result(outcome: str, output: str) -> str:
    """What the model reads after its code block: the output (and the outcome if not OK)."""
    if len(output) > SHOWN_OUTPUT_CHARS:
        half = SHOWN_OUTPUT_CHARS // 2
        omitted = len(output) - 2 * half
        output = f"{output[:half]}\n[... {omitted} characters omitted ...]\n{output[-half:]}"
    shown = output if output.endswith("\n") or not output else output + "\n"
    if outcome != "OUTCOME_OK":
        shown = f"{shown}({outcome})\n"
    return f"{RESULT_OPEN}{shown}{RESULT_CLOSE}"


_MIN_ROOM = 16  # tokens a next round needs to say anything at all


class _Round:
    """One round's stream: prose passes on, code is held, thoughts are kept, finish noted."""

    def __init__(self) -> None:
        self.split = _Splitter()
        self.thoughts: list[str] = []
        self._finish: EngineFinish | None = None

    async def relay(self, events: AsyncIterator[EngineEvent]) -> AsyncIterator[EngineEvent]:
        async for event in events:
            if isinstance(event, EngineFinish):
                self._finish = event
            elif event.thought:
                self.thoughts.append(event.text)
                yield event
            elif (text := self.split.feed(event.text)) or event.logprobs:
                yield EngineDelta(text, event.logprobs)

    def finished(self) -> EngineFinish:
        assert self._finish is not None  # every engine stream ends with one
        return self._finish


@dataclass
class _Totals:
    first: EngineFinish | None = None
    completion: int = 0
    tool_use: int = 0

    def finish(self, last: EngineFinish) -> EngineFinish:
        first = self.first or last
        return replace(
            first,
            reason=last.reason,
            completion_tokens=self.completion,
            tool_use_prompt_tokens=self.tool_use,
        )


class CodeLoop:
    """One candidate's rounds: generate, run the block, feed the result back, continue."""

    def __init__(
        self,
        engine: Engine,
        setup: CodeExecution,
        files: Sequence[SandboxFile],
        budget: int,
        scaffold: Scaffold,
    ) -> None:
        self._engine = engine
        self._setup = setup
        self._files = files
        self._budget = budget
        self._scaffold = scaffold

    async def run(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        totals = _Totals()
        current: str | None = None  # the prompt of the next round, once the first has run
        for round_ in range(self._setup.max_rounds + 1):
            remaining = params.max_tokens - totals.completion
            constraint = CodeBlockConstraint(round_ < self._setup.max_rounds, "tools")
            step = replace(params, max_tokens=max(remaining, 1), constraint=constraint)
            events = (
                self._first_round(prompt, step)
                if current is None
                else self._engine.generate(current, step)
            )
            this = _Round()
            async for event in this.relay(events):
                yield event
            finish = this.finished()
            totals.completion += finish.completion_tokens
            totals.first = totals.first or finish
            code = this.split.code()
            if code is None or finish.reason is not FinishReason.STOP:
                if rest := this.split.unsent():
                    yield EngineDelta(rest)
                yield totals.finish(finish)
                return
            yield EngineDelta("", parts=(ExecutableCodePart(code),))
            run = await self._setup.runner.run(code, self._files)
            yield EngineDelta("", parts=result_parts(run.outcome, run.output, run.images))
            before = current if current is not None else self._answer_prompt(prompt, this)
            current, read = await self._fed_back(before + this.split.text, run, totals)
            room = self._engine.capabilities.context_tokens - read
            if params.max_tokens - totals.completion <= 0 or room < _MIN_ROOM:
                yield totals.finish(replace(finish, reason=FinishReason.MAX_TOKENS))
                return

    async def _fed_back(self, before: str, run: CodeRun, totals: _Totals) -> tuple[str, int]:
        """The next round's prompt and its length; the result's tokens count as tool use."""
        after = before + render_result(run.outcome, run.output)
        read = await self._engine.count_tokens(after)
        totals.tool_use += read - await self._engine.count_tokens(before)
        return after, read

    def _first_round(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        return think_then_answer(self._engine, prompt, params, self._budget, self._scaffold)

    def _answer_prompt(self, prompt: str, first: _Round) -> str:
        return answer_prompt(prompt, self._scaffold, "".join(first.thoughts), self._budget)
