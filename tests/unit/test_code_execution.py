"""The code-execution loop over fake Engine and CodeRunner ports: parts, rounds, accounting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import (
    ChatMessage,
    CodeBlockConstraint,
    CodeRun,
    EngineCapabilities,
    EngineDelta,
    EngineEvent,
    EngineFinish,
    OutputConstraint,
    SamplingParams,
    SandboxFile,
)
from gemgate.engines.llamacpp.grammar import checked_grammar
from gemgate.services.code_execution import (
    CodeExecution,
    CodeLoop,
    _Splitter,
    code_prompt,
    render_result,
    requested,
    sandbox_files,
)
from gemgate.services.generation import GenerationService
from gemgate.services.models import LocalModel, ModelRegistry
from gemgate.services.prompting import chat_messages
from gemgate.services.reasoning import TWO_PHASE
from gemgate.services.signatures import Signer

BLOCK = "Sure.\n```python\nprint(6 * 7)\n```"


class ScriptedEngine:
    """Answers call i with replies[i] in 3-character deltas; records prompts and params."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.params: list[SamplingParams] = []

    @property
    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(context_tokens=4096)

    async def render(self, messages: list[ChatMessage], add_generation_prompt: bool = True) -> str:
        return "|".join(f"{m.role}:{m.content}" for m in messages) + "|assistant:"

    async def count_tokens(self, prompt: str) -> int:
        return len(prompt)  # one token per character keeps the arithmetic visible

    def check_constraint(self, constraint: OutputConstraint) -> None:
        checked_grammar(constraint)

    async def generate(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        self.prompts.append(prompt)
        self.params.append(params)
        reply = self.replies.pop(0)
        for i in range(0, len(reply), 3):
            yield EngineDelta(reply[i : i + 3])
        yield EngineFinish(core.FinishReason.STOP, len(prompt), len(reply), cached_tokens=2)


class FakeRunner:
    def __init__(self, outcome: str = "OUTCOME_OK", output: str = "42\n") -> None:
        self.runs: list[tuple[str, tuple[str, ...]]] = []
        self.result = CodeRun(outcome, output, (("image/png", b"\x89PNG"),))

    @property
    def isolation(self) -> str:
        return "fake"

    async def run(self, code: str, files: Sequence[SandboxFile] = ()) -> CodeRun:
        self.runs.append((code, tuple(f.name for f in files)))
        return self.result


async def run_loop(
    engine: ScriptedEngine, runner: FakeRunner, rounds: int = 2
) -> list[EngineEvent]:
    loop = CodeLoop(engine, CodeExecution(runner, rounds), (), 0, TWO_PHASE)
    return [event async for event in loop.run("PROMPT", SamplingParams(max_tokens=500))]


async def test_a_closed_block_is_run_and_the_result_is_fed_back() -> None:
    engine, runner = ScriptedEngine(BLOCK, "The answer is 42."), FakeRunner()
    events = await run_loop(engine, runner)
    assert runner.runs == [("print(6 * 7)\n", ())]
    parts = [p for e in events if isinstance(e, EngineDelta) for p in e.parts]
    assert parts[0] == core.ExecutableCodePart("print(6 * 7)\n")
    assert parts[1] == core.CodeExecutionResultPart("OUTCOME_OK", "42\n")
    assert parts[2] == core.InlineDataPart("image/png", b"\x89PNG")
    prose = "".join(e.text for e in events if isinstance(e, EngineDelta))
    assert prose == "Sure.\nThe answer is 42."  # the code never leaks into the text
    assert engine.prompts[1] == "PROMPT" + BLOCK + render_result("OUTCOME_OK", "42\n")


async def test_usage_counts_every_round_and_the_results_read() -> None:
    engine, runner = ScriptedEngine(BLOCK, "Done."), FakeRunner()
    finish = (await run_loop(engine, runner))[-1]
    assert isinstance(finish, EngineFinish)
    assert finish.prompt_tokens == len("PROMPT")
    assert finish.completion_tokens == len(BLOCK) + len("Done.")
    assert finish.tool_use_prompt_tokens == len(render_result("OUTCOME_OK", "42\n"))
    assert finish.cached_tokens == 2


async def test_the_round_after_the_last_execution_may_not_write_code() -> None:
    engine, runner = ScriptedEngine(BLOCK, BLOCK, "Text only."), FakeRunner()
    await run_loop(engine, runner, rounds=2)
    allowed = [p.constraint for p in engine.params]
    assert allowed == [
        CodeBlockConstraint(True, "tools"),
        CodeBlockConstraint(True, "tools"),
        CodeBlockConstraint(False, "tools"),
    ]
    assert len(runner.runs) == 2


async def test_prose_without_code_ends_after_one_round() -> None:
    engine, runner = ScriptedEngine("No code needed."), FakeRunner()
    events = await run_loop(engine, runner)
    assert runner.runs == []
    assert "".join(e.text for e in events if isinstance(e, EngineDelta)) == "No code needed."


async def test_failed_outcome_is_shown_to_the_model() -> None:
    trace = "Traceback (most recent call last):\nZeroDivisionError: division by zero\n"
    engine, runner = ScriptedEngine(BLOCK, "Oops."), FakeRunner("OUTCOME_FAILED", trace)
    await run_loop(engine, runner)
    assert engine.prompts[1].endswith(f"```output\n{trace}(OUTCOME_FAILED)\n```\n")


def test_long_output_is_shown_to_the_model_by_head_and_tail() -> None:
    output = "".join(f"line {i}\n" for i in range(2000))
    shown = render_result("OUTCOME_OK", output)
    assert len(shown) < 2200
    assert shown.startswith("\n```output\nline 0\n") and shown.endswith("line 1999\n```\n")
    assert "characters omitted" in shown


def test_splitter_holds_backticks_until_it_knows() -> None:
    splitter = _Splitter()
    assert splitter.feed("ab`") == "ab"
    assert splitter.feed("c") == "`c"
    assert splitter.feed("``") == ""
    assert splitter.feed("`python\nx=1\n```") == ""
    assert splitter.code() == "x=1\n"


def test_unclosed_block_is_not_code() -> None:
    splitter = _Splitter()
    splitter.feed("```python\nprint(1")
    assert splitter.code() is None
    assert splitter.unsent() == "```python\nprint(1"


@pytest.mark.parametrize("allow_code", [True, False])
def test_code_grammar_compiles(allow_code: bool) -> None:
    assert "start: PROSE" in checked_grammar(CodeBlockConstraint(allow_code, "tools"))


async def test_inline_files_get_sensible_unique_names() -> None:
    parts = (
        core.InlineDataPart("text/csv", b"a,b\n"),
        core.InlineDataPart("text/csv", b"c\n", display_name="../../etc/passwd"),
        core.InlineDataPart("text/csv", b"d\n", display_name="passwd"),
        core.TextPart("analyse"),
    )
    contents = (core.Content(core.Role.USER, parts),)
    files = await sandbox_files(contents, None, "p")
    assert [f.name for f in files] == ["input_file_0.csv", "passwd", "passwd_1"]
    assert "input_file_0.csv" in code_prompt(files)


def _request(*tools: core.Tool, **config: object) -> core.GenerateRequest:
    content = core.Content(core.Role.USER, (core.TextPart("hi"),))
    return core.GenerateRequest(
        "gemini-2.5-flash", (content,), tools=tools, config=core.GenerationConfig(**config)
    )


def test_turned_off_tool_is_a_400_naming_it() -> None:
    request = _request(core.Tool("codeExecution", {}))
    with pytest.raises(InvalidArgument) as caught:
        requested(request, enabled=False)
    assert caught.value.field == "tools[0].codeExecution"


def _service(engine: ScriptedEngine, runner: FakeRunner) -> GenerationService:
    registry = ModelRegistry(
        [LocalModel("small", "Small", "", 4096, 500)], {"gemini-2.5-flash": "default"}, "small"
    )

    class Engines:
        async def engine(self, model_id: str) -> ScriptedEngine:
            return engine

    code = CodeExecution(runner, 2)
    return GenerationService(registry, Engines(), Signer(b"k" * 32), code=code)


async def test_generate_returns_code_result_and_answer_with_usage() -> None:
    engine, runner = ScriptedEngine(BLOCK, "It is 42."), FakeRunner()
    request = _request(core.Tool("codeExecution", {}))
    response = await _service(engine, runner).generate(request)
    kinds = [type(p).__name__ for p in response.candidates[0].parts]
    assert kinds == [
        "TextPart",
        "ExecutableCodePart",
        "CodeExecutionResultPart",
        "InlineDataPart",
        "TextPart",
    ]
    assert response.usage.tool_use_prompt_tokens > 0
    assert "You can run Python code" in engine.prompts[0]


async def test_code_execution_with_functions_is_a_400() -> None:
    functions = core.Tool(
        "functionDeclarations", {"functionDeclarations": [{"name": "f", "description": ""}]}
    )
    request = _request(core.Tool("codeExecution", {}), functions)
    with pytest.raises(InvalidArgument) as caught:
        await _service(ScriptedEngine(), FakeRunner()).generate(request)
    assert caught.value.field == "tools"


async def test_code_execution_with_a_response_schema_is_a_400() -> None:
    request = _request(core.Tool("codeExecution", {}), response_mime_type="text/x.enum")
    with pytest.raises(InvalidArgument) as caught:
        await _service(ScriptedEngine(), FakeRunner()).generate(request)
    assert caught.value.field == "tools"


def test_earlier_code_turns_read_as_the_model_wrote_and_saw_them() -> None:
    history = (
        core.Content(core.Role.USER, (core.TextPart("run it"),)),
        core.Content(
            core.Role.MODEL,
            (
                core.ExecutableCodePart("print(42)\n"),
                core.CodeExecutionResultPart("OUTCOME_OK", "42\n"),
                core.InlineDataPart("image/png", b"\x89PNG"),
                core.TextPart("It printed 42."),
            ),
        ),
        core.Content(core.Role.USER, (core.TextPart("thanks"),)),
    )
    turn = chat_messages(history, None, "small")[1]
    assert turn.content == (
        "```python\nprint(42)\n```"
        + render_result("OUTCOME_OK", "42\n")
        + "[figure: image/png]\nIt printed 42."
    )
