"""Relay overhead: gemgate vs LiteLLM proxy, both relaying to one instant loopback upstream.

One run starts the instant upstream (bench/instant_upstream.py), gemgate and LiteLLM proxy
(`litellm[proxy]` in bench/.venv: `bash bench/setup.sh relay`), then sends the same
OpenAI chat/completions request through each at a fixed concurrency, rounds interleaved
(upstream direct, gemgate, litellm, gemgate's native Gemini path, ... again), and prints
requests/s and p50/p99 latency per target, the latency each relay adds over calling the
upstream directly (p50 and p99 differences), and the gemgate/litellm ratios. Medians over
rounds. The machine is shared and noisy: read the ratios, not the absolute numbers.

Usage: bash bench/setup.sh relay     (once: bench/.venv with litellm[proxy], aiohttp, httpx)
       bench/.venv/bin/python bench/relay.py [--requests 2000] [--concurrency 16]
       [--rounds 3] [--stream] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from procs import HOST, free_port, running_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCH_PYTHON = HERE / ".venv" / "bin" / "python"
PROMPT = [{"role": "user", "content": "Say hello."}]
LITELLM_KEY = "sk-litellm-bench-master-key"  # LiteLLM refuses to start without one


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Round:
    target: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(target: Target, requests: int, concurrency: int) -> Round:
    """`requests` POSTs from `concurrency` workers over as many kept-alive connections.

    The client is aiohttp: on this machine an httpx client tops out near 360 requests/s,
    which would measure the client instead of the servers.
    """
    headers = {"content-type": "application/json", **target.headers}
    latencies: list[float] = []
    errors = 0
    todo = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            nonlocal errors
            for _ in todo:
                started = time.perf_counter()
                async with client.post(target.url, data=target.body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                errors += response.status != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    return Round(
        target.name,
        requests,
        errors,
        requests / wall,
        _percentile(latencies, 0.50) * 1000,
        _percentile(latencies, 0.99) * 1000,
    )


def _openai_body(model: str, stream: bool) -> bytes:
    body: dict[str, Any] = {"model": model, "messages": PROMPT, "max_tokens": 16}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return json.dumps(body).encode()


def _gemini_body() -> bytes:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
        "generationConfig": {"maxOutputTokens": 16},
    }
    return json.dumps(body).encode()


def _gemgate_config(upstream: str, path: Path) -> Path:
    config = {
        "deployments": [
            {"name": "instant", "kind": "openai", "base_url": f"{upstream}/v1", "api_key": "sk-up"},
            {"name": "instant-gemini", "kind": "gemini", "base_url": upstream, "api_key": "k"},
        ],
        "routes": {
            "bench-model": [{"deployment": "instant", "model": "instant-model"}],
            "bench-gemini": [{"deployment": "instant-gemini", "model": "instant-model"}],
        },
    }
    path.write_text(json.dumps(config))
    return path


def _litellm_config(upstream: str, path: Path) -> Path:
    """LiteLLM reads YAML; JSON is YAML."""
    config = {
        "model_list": [
            {
                "model_name": "bench-model",
                "litellm_params": {
                    "model": "openai/instant-model",
                    "api_base": f"{upstream}/v1",
                    "api_key": "sk-up",
                },
            }
        ],
        "litellm_settings": {"drop_params": True},
    }
    path.write_text(json.dumps(config))
    return path


def _gemgate_key(data_dir: Path) -> str:
    """Both gateways check a key on every request, as they would in production."""
    argv = [str(ROOT / ".venv" / "bin" / "gemgate"), "keys", "create", "--project", "bench"]
    out = subprocess.run(
        [*argv, "--data-dir", str(data_dir)], capture_output=True, text=True, check=True
    ).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("key:"))


@contextlib.contextmanager
def _servers(work: Path, gateways: list[str]) -> Iterator[dict[str, str]]:
    """The upstream and the gateways, each on its own port; {name: base url, key}."""
    ports = {name: free_port() for name in ("upstream", "gemgate", "litellm")}
    urls = {name: f"http://{HOST}:{port}" for name, port in ports.items()}
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            running_server(
                [str(BENCH_PYTHON), str(HERE / "instant_upstream.py"), str(ports["upstream"])],
                f"{urls['upstream']}/health",
                work / "upstream.log",
            )
        )
        if "gemgate" in gateways:
            config = _gemgate_config(urls["upstream"], work / "gemgate.json")
            argv = [str(ROOT / ".venv" / "bin" / "gemgate"), "serve", "--port"]
            argv += [str(ports["gemgate"]), "--data-dir", str(work / "gemgate")]
            argv += ["--config", str(config)]
            env = {"GEMGATE_EMBEDDING_WARMUP": "false"}
            urls["gemgate-key"] = _gemgate_key(work / "gemgate")
            stack.enter_context(
                running_server(argv, f"{urls['gemgate']}/healthz", work / "gemgate.log", env)
            )
        if "litellm" in gateways:
            config = _litellm_config(urls["upstream"], work / "litellm.yaml")
            argv = [str(HERE / ".venv" / "bin" / "litellm"), "--config", str(config)]
            argv += ["--host", HOST, "--port", str(ports["litellm"]), "--num_workers", "1"]
            # No price list from the internet; only errors in the log.
            env = {
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_LOG": "ERROR",
                "LITELLM_MASTER_KEY": LITELLM_KEY,
            }
            health = f"{urls['litellm']}/health/liveliness"
            stack.enter_context(running_server(argv, health, work / "litellm.log", env, 180))
        yield urls


def _targets(urls: dict[str, str], gateways: list[str], stream: bool) -> list[Target]:
    openai = _openai_body("bench-model", stream)
    targets = [
        Target("upstream direct", f"{urls['upstream']}/v1/chat/completions",
               _openai_body("instant-model", stream), {}),
    ]  # fmt: skip
    if "gemgate" in gateways:
        bearer = {"authorization": f"Bearer {urls['gemgate-key']}"}
        url = f"{urls['gemgate']}/v1/chat/completions"
        targets.append(Target("gemgate", url, openai, bearer))
    if "litellm" in gateways:
        bearer = {"authorization": f"Bearer {LITELLM_KEY}"}
        targets.append(Target("litellm", f"{urls['litellm']}/v1/chat/completions", openai, bearer))
    if "gemgate" in gateways and not stream:
        url = f"{urls['gemgate']}/v1beta/models/bench-gemini:generateContent"
        key = {"x-goog-api-key": urls["gemgate-key"]}
        targets.append(Target("gemgate native gemini", url, _gemini_body(), key))
    return targets


def _summary(rounds: list[Round]) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(r.target for r in rounds))
    rows = []
    for name in names:
        mine = [r for r in rounds if r.target == name]
        rows.append(
            {
                "target": name,
                "rps": statistics.median(r.rps for r in mine),
                "p50_ms": statistics.median(r.p50_ms for r in mine),
                "p99_ms": statistics.median(r.p99_ms for r in mine),
                "errors": sum(r.errors for r in mine),
            }
        )
    direct = rows[0]
    for row in rows:
        row["added_p50_ms"] = row["p50_ms"] - direct["p50_ms"]
        row["added_p99_ms"] = row["p99_ms"] - direct["p99_ms"]
    return rows


def _print(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    mode = "streamed" if args.stream else "plain"
    print(f"\n{args.requests} {mode} requests x {args.rounds} rounds, concurrency "
          f"{args.concurrency} (medians over rounds)")  # fmt: skip
    print(f"{'target':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'+p50 ms':>8} {'+p99 ms':>8} {'errors':>6}")  # fmt: skip
    for r in rows:
        print(
            f"{r['target']:24} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
            f"{r['added_p50_ms']:8.2f} {r['added_p99_ms']:8.2f} {r['errors']:6d}"
        )
    by = {r["target"]: r for r in rows}
    if "gemgate" in by and "litellm" in by:
        g, lite = by["gemgate"], by["litellm"]
        print(
            f"\ngemgate/litellm: {g['rps'] / lite['rps']:.2f}x requests/s; "
            f"p99 {g['p99_ms']:.1f} vs {lite['p99_ms']:.1f} ms; added p50 "
            f"{g['added_p50_ms']:.2f} vs {lite['added_p50_ms']:.2f} ms"
        )


async def _measure(targets: list[Target], args: argparse.Namespace) -> list[Round]:
    for target in targets:  # warm-up: connections, caches, JIT-less but lazy imports
        await _load(target, min(300, args.requests), args.concurrency)
    rounds = []
    for number in range(args.rounds):
        for target in targets:
            result = await _load(target, args.requests, args.concurrency)
            print(f"round {number + 1}: {target.name:24} {result.rps:7.0f} req/s "
                  f"p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:7.2f} ms "
                  f"errors {result.errors}", flush=True)  # fmt: skip
            rounds.append(result)
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="streamed chat completions")
    parser.add_argument("--gateways", default="gemgate,litellm")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    gateways = args.gateways.split(",")
    if "litellm" in gateways and not (HERE / ".venv" / "bin" / "litellm").exists():
        print("litellm is not installed: run `bash bench/setup.sh relay`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gemgate-relay-bench-") as tmp:
        work = Path(tmp)
        print(f"logs in {work} (deleted at the end)")
        with _servers(work, gateways) as urls:
            rounds = asyncio.run(_measure(_targets(urls, gateways, args.stream), args))
    rows = _summary(rounds)
    _print(rows, args)
    if args.json:
        payload = {"args": {k: str(v) for k, v in vars(args).items()}, "summary": rows,
                   "rounds": [asdict(r) for r in rounds]}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
