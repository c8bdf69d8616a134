"""Time to first token for a ~2000-token prompt: cold vs prefix-warm vs exact hit, one run.

Starts `gemgate serve` on loopback and drives its native streaming endpoint:
- cold: a document never seen before (a fresh nonce opens it);
- prefix-warm: the same document as the previous request, a new question after it;
- exact hit: a repeat of a reproducible request (temperature 0), served from the response
  cache; its server time is read from the `Server-Timing` header.
Medians over rounds.

    .venv/bin/python bench/caching.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import HOST, free_port, running_server

ROOT = Path(__file__).resolve().parents[1]
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def document(nonce: str) -> str:
    lines = [f"Logbook {nonce}."]
    lines += [
        f"Day {i}: the keeper counted {i * 7 % 97} ships and {i % 6} storms, "
        f"and repaired lamp number {i % 13}."
        for i in range(110)
    ]
    return " ".join(lines)


def body(doc: str, question: str) -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": doc}, {"text": question}]}],
        "generationConfig": {"maxOutputTokens": 4, "temperature": 0},
    }


def ttft(client: httpx.Client, payload: dict[str, Any]) -> tuple[float, int, int]:
    started = time.perf_counter()
    first: float | None = None
    usage: dict[str, Any] = {}
    with client.stream("POST", STREAM, json=payload) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: "):
                first = first or time.perf_counter() - started
                usage = json.loads(line[6:]).get("usageMetadata", usage)
    assert first is not None
    return (
        first,
        int(usage.get("promptTokenCount", 0)),
        int(usage.get("cachedContentTokenCount", 0)),
    )


def exact_hit(client: httpx.Client, payload: dict[str, Any]) -> tuple[float, float, int]:
    started = time.perf_counter()
    response = client.post(GENERATE, json=payload)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    server_ms = float(response.headers["server-timing"].split("dur=")[1])
    cached = int(response.json()["usageMetadata"].get("cachedContentTokenCount", 0))
    return elapsed, server_ms / 1000, cached


def run(base: str, rounds: int) -> dict[str, Any]:
    rows: dict[str, list[float]] = {
        "cold": [],
        "prefix_warm": [],
        "exact_hit": [],
        "exact_hit_server": [],
    }
    prompt_tokens, warm_cached = [], []
    with httpx.Client(base_url=base, timeout=300) as client:
        ttft(client, body(document("warmup"), "Warm up?"))
        for _ in range(rounds):
            doc = document(secrets.token_hex(6))
            cold, tokens, _ = ttft(client, body(doc, "How many storms on day 3?"))
            warm, _, cached = ttft(client, body(doc, "Which lamp was repaired on day 40?"))
            repeat = body(doc, "Which lamp was repaired on day 40?")
            client.post(GENERATE, json=repeat).raise_for_status()
            hit, hit_server, _ = exact_hit(client, repeat)
            rows["cold"].append(cold)
            rows["prefix_warm"].append(warm)
            rows["exact_hit"].append(hit)
            rows["exact_hit_server"].append(hit_server)
            prompt_tokens.append(tokens)
            warm_cached.append(cached)
    medians = {name: statistics.median(values) for name, values in rows.items()}
    return {
        "prompt_tokens": statistics.median(prompt_tokens),
        "prefix_warm_cached_tokens": statistics.median(warm_cached),
        "median_seconds": medians,
        "cold_over_prefix_warm": medians["cold"] / medians["prefix_warm"],
        "rounds": rounds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        argv = [
            sys.executable,
            "-m",
            "gemgate",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--data-dir",
            data,
        ]
        base = f"http://{HOST}:{port}"
        with running_server(argv, f"{base}/healthz", Path(data) / "server.log"):
            result = run(base, args.rounds)
    print(json.dumps(result, indent=2))
    s = result["median_seconds"]
    print(
        f"TTFT cold {s['cold'] * 1000:.0f} ms, prefix-warm {s['prefix_warm'] * 1000:.0f} ms "
        f"({result['cold_over_prefix_warm']:.1f}x faster), exact hit "
        f"{s['exact_hit'] * 1000:.1f} ms client / {s['exact_hit_server'] * 1000:.2f} ms server"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
