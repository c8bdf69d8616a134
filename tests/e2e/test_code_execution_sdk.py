"""The codeExecution tool through the real google-genai SDK against a real server.

The tiny model is asked to run a given program; the tests check mechanics, never its wit:
whatever code it wrote, the reported output must be exactly what that code prints when run
again here in a plain subprocess, and outcomes must match what the code does.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import types

from tests.e2e.conftest import SANDBOX_WALL_SECONDS
from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

CONFIG = types.GenerateContentConfig(
    temperature=0,
    max_output_tokens=64,
    tools=[types.Tool(code_execution=types.ToolCodeExecution())],
)
PRIMES = "print(sum([n for n in range(2, 300) if all(n % d for d in range(2, n))][:50]))"
CSV = b"name,score\nann,3\nbob,5\ncid,10\n"
SLEEP_FOREVER = "import time; time.sleep(3600)"  # busy loops: see test_sandbox_security.py


def run_this(code: str) -> str:
    # The phrasing SmolLM2 follows most reliably at temperature 0 (tried against others).
    return f"```python\n{code}\n```\nRun the code above."


PHRASINGS = (
    "```python\n{code}\n```\nRun the code above.",
    "Run this Python code and tell me what it prints:\n\n```python\n{code}\n```",
    "Run this code:\n```python\n{code}\n```",
)


def first_run(
    client: genai.Client, code: str
) -> tuple[types.GenerateContentResponse, list[tuple[str, types.CodeExecutionResult]]]:
    """Asks in each phrasing until the model runs something: whether a 135M model copies a
    program depends on every token of the prompt (a port number changes it); the mechanics
    under test start once it has written a block."""
    for phrasing in PHRASINGS:
        response = client.models.generate_content(
            model="gemini-2.5-flash", contents=phrasing.format(code=code), config=CONFIG
        )
        if pairs := executions(response_parts(response)):
            return response, pairs
    raise AssertionError(f"the model ran no code for any phrasing: {response.text!r}")


def executions(
    parts: list[types.Part],
) -> list[tuple[str, types.CodeExecutionResult]]:
    """(code, result) pairs in order; every executableCode part is followed by its result."""
    pairs = []
    for i, part in enumerate(parts):
        if part.executable_code is not None:
            result = parts[i + 1].code_execution_result
            assert result is not None, "executableCode without its codeExecutionResult"
            assert part.executable_code.code is not None
            pairs.append((part.executable_code.code, result))
    return pairs


def rerun(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def response_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    assert response.candidates and response.candidates[0].content
    return list(response.candidates[0].content.parts or [])


def test_sum_of_primes_output_is_what_the_code_prints(
    code_client: genai.Client, tmp_path: Path
) -> None:
    response, pairs = first_run(code_client, PRIMES)
    for code, result in pairs:
        again = rerun(code, tmp_path)
        if result.outcome == types.Outcome.OUTCOME_OK:
            assert result.output == again.stdout
        else:
            assert again.returncode != 0
    usage = response.usage_metadata
    assert usage is not None and usage.tool_use_prompt_token_count
    assert usage.total_token_count == (
        (usage.prompt_token_count or 0)
        + (usage.candidates_token_count or 0)
        + usage.tool_use_prompt_token_count
    )


def test_inline_csv_is_in_the_working_directory(code_client: genai.Client, tmp_path: Path) -> None:
    code = "import pandas as pd; print(pd.read_csv('input_file_0.csv').describe())"
    contents = types.Content(
        role="user",
        parts=[
            types.Part(inline_data=types.Blob(data=CSV, mime_type="text/csv")),
            # After a document SmolLM2 copies code more reliably when asked this way.
            types.Part(
                text=f"Run this Python code and tell me what it prints:\n\n```python\n{code}\n```"
            ),
        ],
    )
    response = code_client.models.generate_content(
        model="gemini-2.5-flash", contents=contents, config=CONFIG
    )
    code_run, result = executions(response_parts(response))[0]
    assert "input_file_0.csv" in code_run
    (tmp_path / "input_file_0.csv").write_bytes(CSV)
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    assert result.output == rerun(code_run, tmp_path).stdout


def test_failing_program_reports_its_traceback(code_client: genai.Client) -> None:
    response = code_client.models.generate_content(
        model="gemini-2.5-flash", contents=run_this("print(1 / 0)"), config=CONFIG
    )
    code, result = executions(response_parts(response))[0]
    assert "1 / 0" in code
    assert result.outcome == types.Outcome.OUTCOME_FAILED
    assert result.output and "Traceback" in result.output
    assert "ZeroDivisionError" in result.output


def test_endless_program_is_stopped_at_the_deadline_while_streaming(
    code_client: genai.Client,
) -> None:
    """The executableCode chunk leaves when the block closes, the result when it has run."""
    stream = code_client.models.generate_content_stream(
        model="gemini-2.5-flash", contents=run_this(SLEEP_FOREVER), config=CONFIG
    )
    seen: list[tuple[float, types.Part]] = []
    for chunk in stream:
        if chunk.candidates and chunk.candidates[0].content:
            now = time.monotonic()
            seen += [(now, part) for part in chunk.candidates[0].content.parts or []]
    code_at = next(t for t, p in seen if p.executable_code is not None)
    result_at, result = next(
        (t, p.code_execution_result) for t, p in seen if p.code_execution_result is not None
    )
    assert result.outcome == types.Outcome.OUTCOME_DEADLINE_EXCEEDED
    assert result_at - code_at >= SANDBOX_WALL_SECONDS - 0.5  # a separate, later chunk
    assert result_at - code_at < SANDBOX_WALL_SECONDS + 2.0  # and stopped at the limit


@pytest.fixture
def loopback_listener(code_server: RunningServer) -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that anything outside the sandbox can reach. Its port is
    fixed when free because the tiny model copies some numbers more faithfully than others
    (24680 it copies in every phrasing); the server's own port stands in otherwise."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 24680))
        listener.listen(8)
        yield 24680
    except OSError:
        yield int(code_server.url.rsplit(":", 1)[1])
    finally:
        listener.close()


def test_hostile_code_cannot_reach_loopback(
    code_client: genai.Client, code_server: RunningServer, loopback_listener: int, tmp_path: Path
) -> None:
    """The same code connects from here (0) and is refused inside the sandbox (an errno)."""
    port = str(loopback_listener)
    hostile = f"import socket; print(socket.socket().connect_ex(('127.0.0.1', {port})))"
    _, pairs = first_run(code_client, hostile)
    code, result = pairs[0]
    assert "connect_ex" in code and port in code
    assert rerun(code, tmp_path).stdout == "0\n"
    assert result.outcome == types.Outcome.OUTCOME_OK
    assert result.output is not None and int(result.output) != 0
    assert httpx.get(f"{code_server.url}/healthz").status_code == 200


def test_uploaded_file_is_in_the_working_directory(
    code_client: genai.Client, tmp_path: Path
) -> None:
    source = tmp_path / "scores.csv"
    source.write_bytes(CSV)
    uploaded = code_client.files.upload(
        file=source, config=types.UploadFileConfig(mime_type="text/csv", display_name="scores.csv")
    )
    code = "import pandas as pd; print(pd.read_csv('scores.csv').describe())"
    contents = types.Content(
        role="user",
        parts=[
            types.Part.from_uri(file_uri=uploaded.uri or "", mime_type="text/csv"),
            types.Part(
                text=f"Run this Python code and tell me what it prints:\n\n```python\n{code}\n```"
            ),
        ],
    )
    response = code_client.models.generate_content(
        model="gemini-2.5-flash", contents=contents, config=CONFIG
    )
    code_run, result = executions(response_parts(response))[0]
    assert "scores.csv" in code_run
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    assert result.output == rerun(code_run, tmp_path).stdout


def test_saved_figure_comes_back_as_an_inline_image(code_client: genai.Client) -> None:
    code = "import matplotlib.pyplot as plt; plt.plot([1, 2, 3]); plt.savefig('plot.png')"
    response = code_client.models.generate_content(
        model="gemini-2.5-flash", contents=run_this(code), config=CONFIG
    )
    parts = response_parts(response)
    code_run, result = executions(parts)[0]
    assert "savefig" in code_run
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    images = [p.inline_data for p in parts if p.inline_data is not None]
    assert images and images[0].mime_type == "image/png"
    assert images[0].data and images[0].data.startswith(b"\x89PNG")


def test_chat_continues_after_a_code_turn(code_client: genai.Client) -> None:
    """The SDK re-sends executableCode, codeExecutionResult and figures in the history."""
    chat = code_client.chats.create(model="gemini-2.5-flash", config=CONFIG)
    first = chat.send_message(run_this("import matplotlib.pyplot as plt; plt.plot([1, 2])"))
    assert executions(response_parts(first))
    second = chat.send_message("Thanks. What did the code do?")
    assert second.candidates and second.candidates[0].finish_reason is not None
    assert len(chat.get_history()) == 4
