"""The limit: xllamacpp's Server in-process, no HTTP. Run by run.py as its own subprocess.

    python bench/direct_engine.py --model PATH --tokens N --runs R --streams 1,4 --out FILE

Writes a JSON list of `ScenarioResult.to_json()` to FILE (stdout carries llama.cpp's logs).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import xllamacpp

from measure import StreamFn, StreamSample, StreamTimer, run_scenario
from workload import Workload

ENGINE = "xllamacpp direct"


def make_server(model: str, n_parallel: int, threads: int, ctx_per_slot: int) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_parallel = n_parallel
    params.n_ctx = ctx_per_slot * n_parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # The Server always opens an HTTP listener; a random key keeps it closed.
    params.api_keys = [secrets.token_hex(16)]
    params.verbosity = -1
    return xllamacpp.Server(params)


def direct_stream(server: Any, work: Workload) -> StreamFn:
    request = work.openai_chat_body()

    def stream() -> StreamSample:
        timer = StreamTimer()
        usage: dict[str, Any] = {}
        finish: list[str] = []
        errors: list[str] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if "error" in chunk:
                errors.append(str(chunk["error"]))
                return True
            usage.update(chunk.get("usage") or {})
            for choice in chunk.get("choices") or []:
                timer.content((choice.get("delta") or {}).get("content") or "")
                if choice.get("finish_reason"):
                    finish.append(choice["finish_reason"])
            return False

        server.handle_chat_completions(request, on_chunk)
        if errors:
            raise RuntimeError(f"xllamacpp error: {errors[0]}")
        return timer.sample(
            usage.get("completion_tokens"),
            prompt_tokens=usage.get("prompt_tokens"),
            finish_reason=finish[-1] if finish else None,
        )

    return stream


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--streams", default="1,4", help="comma-separated concurrency levels")
    parser.add_argument("--prompt", default=Workload().prompt)
    parser.add_argument("--n-parallel", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx-per-slot", type=int, default=4096)
    parser.add_argument("--quiet-wait", type=float, default=120.0)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = Workload(prompt=args.prompt, max_tokens=args.tokens)
    server = make_server(args.model, args.n_parallel, args.threads, args.ctx_per_slot)
    stream = direct_stream(server, work)
    levels = [int(n) for n in args.streams.split(",")]
    results = [run_scenario(ENGINE, stream, n, args.runs, args.quiet_wait) for n in levels]
    args.out.write_text(json.dumps([r.to_json() for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
