"""Time to first token, paired: every engine loaded at once, one request to each in turn.

    .venv/bin/python bench/ttft.py [--turns 30] [--gaps 0.05,1.0] [--tokens 16] [--json FILE]

run.py runs the engines one after another, minutes apart. On this shared 2-core VM the time
to first token then moves more between runs than between engines: the bare engine answers
in ~14 ms back to back but ~40 ms after half a second of idleness (the host's wake-up, which
every engine pays). Here gemgate and llama_cpp.server (subprocesses, as in run.py) and
xllamacpp's engine (in this process: no HTTP) are loaded together; each turn sends one
request to each, in an order that rotates from turn to turn, every request `gap` seconds
after the previous one ended, so all three meet the same machine. Reported per gap: each
engine's median TTFT and the median over turns of the ratio gemgate / peer within a turn;
the same for tokens/s (request start .. last byte; meaningful with `--tokens 128`).
Which engine is loaded first still matters on this VM (bench/README.md): run both orders.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from clients import gemini_stream, http_client, openai_chat_stream, probe_prompt_tokens
from direct_engine import direct_stream, make_server
from measure import StreamFn, StreamSample
from procs import HOST, free_port, running_server
from report import DIRECT, GEMGATE, LLAMA_SERVER
from run import BENCH_VENV, MAIN_VENV, bundled_model, gemgate_command, llama_server_argv
from workload import Workload

WARM_UP = 2  # requests per engine before the measured turns


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", help="GGUF file (default: the bundled SmolLM2-135M-Instruct)")
    p.add_argument("--turns", type=int, default=30, help="requests per engine and gap")
    p.add_argument("--gaps", default="0.05,1.0", help="idle seconds before each request")
    p.add_argument("--tokens", type=int, default=16, help="max output tokens per request")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--slots", type=int, default=4)
    p.add_argument("--no-llama-server", action="store_true", help="gemgate and direct only")
    p.add_argument(
        "--start-order",
        default=f"{GEMGATE},{LLAMA_SERVER},{DIRECT}",
        help="which engine is loaded first, second, third",
    )
    p.add_argument("--json", type=Path)
    p.add_argument("--gemgate", default=str(MAIN_VENV / "gemgate"))
    p.add_argument("--gemgate-model", default="gemini-2.5-flash")
    p.add_argument("--llama-python", default=str(BENCH_VENV / "python"))
    return p.parse_args(argv)


def start_engines(
    args: argparse.Namespace, work: Workload, stack: ExitStack
) -> dict[str, StreamFn]:
    """Start the engines in `--start-order` (it matters: see the module's docstring)."""
    logs = Path(tempfile.mkdtemp(prefix="gemgate-ttft-logs-"))
    print(f"logs  {logs}", file=sys.stderr)
    client = stack.enter_context(http_client(1))

    def gemgate() -> StreamFn:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="gemgate-ttft-"))
        command = gemgate_command(args, free_port(), data_dir)
        health = f"{command.base}/healthz"
        stack.enter_context(running_server(command.argv, health, logs / "gemgate.log", command.env))
        return gemini_stream(client, command.base, args.gemgate_model, work)

    def llama_server() -> StreamFn:
        port = free_port()
        base = f"http://{HOST}:{port}"
        argv = llama_server_argv(args, port)
        stack.enter_context(running_server(argv, f"{base}/v1/models", logs / "llama.log"))
        tokens = probe_prompt_tokens(client, base, args.model, work)
        return openai_chat_stream(client, base, args.model, work, tokens)

    def direct() -> StreamFn:
        return direct_stream(make_server(args.model, args.slots, args.threads, 4096), work)

    starters = {GEMGATE: gemgate, LLAMA_SERVER: llama_server, DIRECT: direct}
    order = [n for n in args.start_order.split(",") if n in starters]
    if args.no_llama_server:
        order.remove(LLAMA_SERVER)
    started = {name: starters[name]() for name in order}
    return {name: started[name] for name in starters if name in started}


def ttft_ms(sample: StreamSample) -> float:
    if sample.ttft is None:
        raise RuntimeError("a stream produced no text")
    return sample.ttft * 1000


def measure(engines: dict[str, StreamFn], turns: int, gap: float) -> list[dict[str, Any]]:
    """One dict per turn: engine -> TTFT ms, and engine -> tok/s under "tok/s"."""
    names = list(engines)
    rows = []
    for turn in range(turns):
        order = names[turn % len(names) :] + names[: turn % len(names)]
        row: dict[str, Any] = {"tok/s": {}}
        for name in order:
            time.sleep(gap)
            sample = engines[name]()
            row[name] = ttft_ms(sample)
            row["tok/s"][name] = sample.tok_per_s
        rows.append(row)
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = list(rows[0]["tok/s"])

    def paired(value: Any) -> dict[str, float]:
        return {
            n: statistics.median(value(r, GEMGATE) / value(r, n) for r in rows)
            for n in names
            if n != GEMGATE
        }

    return {
        "median_ttft_ms": {n: statistics.median(r[n] for r in rows) for n in names},
        "median_ratio_gemgate_over": paired(lambda r, n: r[n]),
        "median_tok_per_s": {n: statistics.median(r["tok/s"][n] for r in rows) for n in names},
        "median_tok_per_s_ratio_gemgate_over": paired(lambda r, n: r["tok/s"][n]),
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.model = str(Path(args.model or bundled_model()).resolve())
    work = Workload(max_tokens=args.tokens)
    gaps = [float(g) for g in args.gaps.split(",")]
    results: dict[str, Any] = {"command": " ".join(["bench/ttft.py", *argv]), "gaps": {}}
    with ExitStack() as stack:
        engines = start_engines(args, work, stack)
        for stream in engines.values():
            for _ in range(WARM_UP):
                stream()
        for gap in gaps:
            print(f"gap {gap} s: {args.turns} turns...", file=sys.stderr, flush=True)
            rows = measure(engines, args.turns, gap)
            results["gaps"][str(gap)] = {**summarize(rows), "turns": rows}
    results["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for gap, data in results["gaps"].items():
        print(f"gap {gap} s before each request ({args.turns} turns):")
        for name, ms in data["median_ttft_ms"].items():
            ratio = data["median_ratio_gemgate_over"].get(name)
            tail = "" if ratio is None else f"   gemgate / {name}: {ratio:.2f}"
            print(f"  {name:18s} median TTFT {ms:7.1f} ms{tail}")
        for name, rate in data["median_tok_per_s"].items():
            ratio = data["median_tok_per_s_ratio_gemgate_over"].get(name)
            tail = "" if ratio is None else f"   gemgate / {name}: {ratio:.2f}"
            print(f"  {name:18s} median tok/s {rate:6.1f}{tail}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
