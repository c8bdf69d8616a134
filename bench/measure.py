"""Timing samples and their aggregation; knows nothing about any engine or protocol.

A *stream function* performs one streaming generation and returns a `StreamSample`.
`run_scenario` calls it from N threads at once (one round), after a warm-up round, R times.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from machine import NOISY_CORES, CpuMeter, wait_quiet

METRICS = ("aggregate_tps", "per_stream_tps", "decode_tps", "ttft_s", "server_ttft_s")
ROUND_TIMEOUT_S = 300.0
NOISY_RETRIES = 3


@dataclass
class StreamSample:
    """One streamed generation, timed with `time.perf_counter()` in the measuring process."""

    tokens: int
    t_start: float
    t_end: float
    t_first: float | None = None
    t_last_chunk: float | None = None
    prompt_tokens: int | None = None
    server_ttft: float | None = None  # the server's own request .. response start, if it says
    finish_reason: str | None = None
    text: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ttft(self) -> float | None:
        return None if self.t_first is None else self.t_first - self.t_start

    @property
    def tok_per_s(self) -> float:
        """Completion tokens over request start .. last byte."""
        return self.tokens / (self.t_end - self.t_start)

    @property
    def decode_rate(self) -> float | None:
        """(tokens - 1) over first .. last content chunk: pure decode speed."""
        if self.t_first is None or self.t_last_chunk is None or self.tokens < 2:
            return None
        span = self.t_last_chunk - self.t_first
        return (self.tokens - 1) / span if span > 0 else None


StreamFn = Callable[[], StreamSample]


class StreamTimer:
    """Collects the times of a stream's content chunks as they arrive."""

    def __init__(self) -> None:
        self.t_start = time.perf_counter()
        self.t_first: float | None = None
        self.t_last_chunk: float | None = None
        self.parts: list[str] = []
        self.chunks = 0

    def content(self, text: str) -> None:
        if not text:
            return
        now = time.perf_counter()
        if self.t_first is None:
            self.t_first = now
        self.t_last_chunk = now
        self.parts.append(text)
        self.chunks += 1

    def sample(self, tokens: int | None, **extra: Any) -> StreamSample:
        """Close the stream now; without a reported token count, count content chunks."""
        notes: list[str] = extra.pop("notes", [])
        if tokens is None:
            tokens = self.chunks
            notes.append("no usage reported: counted content chunks")
        return StreamSample(
            tokens=tokens,
            t_start=self.t_start,
            t_end=time.perf_counter(),
            t_first=self.t_first,
            t_last_chunk=self.t_last_chunk,
            text="".join(self.parts),
            notes=notes,
            **extra,
        )


@dataclass
class RoundStats:
    """One round: `streams` requests started together."""

    aggregate_tps: float
    per_stream_tps: float
    ttft_s: float | None
    decode_tps: float | None
    tokens: list[int]
    prompt_tokens: list[int | None]
    finish_reasons: list[str | None]
    text_digests: list[str]
    notes: list[str]
    server_ttft_s: float | None = None
    foreign_cores: float = 0.0  # CPU used by other processes during the round
    waited_s: float = 0.0  # how long the round waited for a quiet machine
    attempts: int = 1  # disturbed rounds are run again


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize_round(samples: list[StreamSample]) -> RoundStats:
    wall = max(s.t_end for s in samples) - min(s.t_start for s in samples)
    notes = sorted({n for s in samples for n in s.notes})
    return RoundStats(
        aggregate_tps=sum(s.tokens for s in samples) / wall,
        per_stream_tps=statistics.median(s.tok_per_s for s in samples),
        ttft_s=_median([s.ttft for s in samples]),
        server_ttft_s=_median([s.server_ttft for s in samples]),
        decode_tps=_median([s.decode_rate for s in samples]),
        tokens=[s.tokens for s in samples],
        prompt_tokens=[s.prompt_tokens for s in samples],
        finish_reasons=[s.finish_reason for s in samples],
        text_digests=[digest(s.text) for s in samples],
        notes=notes,
    )


@dataclass
class ScenarioResult:
    """Medians over R rounds of one engine at one concurrency."""

    engine: str
    streams: int
    rounds: list[RoundStats]
    sample_text: str

    @property
    def counted(self) -> list[RoundStats]:
        """The rounds medians are taken over: the undisturbed ones, if there are any."""
        clean = [r for r in self.rounds if r.foreign_cores < NOISY_CORES]
        return clean or self.rounds

    def median(self, name: str) -> float | None:
        return _median([getattr(r, name) for r in self.counted])

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "streams": self.streams,
            "rounds_counted": len(self.counted),
            "median": {k: self.median(k) for k in METRICS},
            "rounds": [asdict(r) for r in self.rounds],
            "sample_text": self.sample_text,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioResult:
        rounds = [RoundStats(**r) for r in data["rounds"]]
        return cls(data["engine"], data["streams"], rounds, data["sample_text"])


def run_round(stream: StreamFn, streams: int) -> list[StreamSample]:
    """Start `streams` requests at the same moment (a barrier) and wait for all of them."""
    barrier = threading.Barrier(streams)

    def one() -> StreamSample:
        barrier.wait(timeout=30)
        return stream()

    with ThreadPoolExecutor(max_workers=streams) as pool:
        futures = [pool.submit(one) for _ in range(streams)]
        return [f.result(timeout=ROUND_TIMEOUT_S) for f in futures]


def measured_round(stream: StreamFn, streams: int, quiet_wait_s: float) -> RoundStats:
    """Wait for a quiet machine, run one round and note what else used the CPU; a round that
    other processes disturbed is run again (up to NOISY_RETRIES times), whichever engine it is."""
    for attempt in range(1, NOISY_RETRIES + 2):
        waited, _ = wait_quiet(quiet_wait_s)
        meter = CpuMeter(os.getpid()).start()
        stats = summarize_round(run_round(stream, streams))
        stats.foreign_cores, stats.waited_s, stats.attempts = meter.foreign_cores(), waited, attempt
        if stats.foreign_cores < NOISY_CORES:
            break
    return stats


def run_scenario(
    engine: str, stream: StreamFn, streams: int, runs: int, quiet_wait_s: float = 120.0
) -> ScenarioResult:
    """A warm-up round (excluded), then `runs` measured rounds."""
    wait_quiet(quiet_wait_s)
    text = run_round(stream, streams)[0].text
    rounds = [measured_round(stream, streams, quiet_wait_s) for _ in range(runs)]
    return ScenarioResult(engine, streams, rounds, text)
