"""The results table, the ratios gemgate/peer, and the issue's targets checked against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from machine import NOISY_CORES
from measure import ScenarioResult

GEMGATE = "gemgate"
LLAMA_SERVER = "llama_cpp.server"
DIRECT = "xllamacpp direct"
ENGINES = (GEMGATE, LLAMA_SERVER, DIRECT)


def _fmt(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}"


def table(results: list[ScenarioResult]) -> str:
    header = (
        f"{'engine':<18} {'streams':>7} {'agg tok/s':>9} {'per-stream':>10} "
        f"{'decode':>7} {'TTFT ms':>8} {'srv ms':>6} {'tokens':>8} {'prompt':>6} {'other CPU':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in sorted(results, key=lambda r: (r.streams, ENGINES.index(r.engine))):
        tokens = sorted({t for rnd in r.rounds for t in rnd.tokens})
        prompts = sorted({p for rnd in r.rounds for p in rnd.prompt_tokens if p is not None})
        lines.append(
            f"{r.engine:<18} {r.streams:>7} {_fmt(r.median('aggregate_tps')):>9} "
            f"{_fmt(r.median('per_stream_tps')):>10} {_fmt(r.median('decode_tps')):>7} "
            f"{_fmt(r.median('ttft_s'), 1000, 0):>8} {_fmt(r.median('server_ttft_s'), 1000, 0):>6} "
            f"{'/'.join(map(str, tokens)):>8} {'/'.join(map(str, prompts)) or 'n/a':>6} "
            f"{max(rnd.foreign_cores for rnd in r.counted):>9.2f}"
        )
    return "\n".join(lines)


def _find(results: list[ScenarioResult], engine: str, streams: int) -> ScenarioResult | None:
    return next((r for r in results if r.engine == engine and r.streams == streams), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def ratios(results: list[ScenarioResult]) -> list[dict[str, Any]]:
    """gemgate divided by each peer, per concurrency and metric (TTFT: below 1 is better)."""
    rows: list[dict[str, Any]] = []
    for streams in sorted({r.streams for r in results}):
        ours = _find(results, GEMGATE, streams)
        for peer in (DIRECT, LLAMA_SERVER):
            theirs = _find(results, peer, streams)
            if ours is None or theirs is None:
                continue
            row: dict[str, Any] = {"streams": streams, "peer": peer}
            for metric in ("aggregate_tps", "per_stream_tps", "decode_tps", "ttft_s"):
                row[metric] = _ratio(ours.median(metric), theirs.median(metric))
            rows.append(row)
    return rows


def ratio_table(rows: list[dict[str, Any]]) -> str:
    header = f"{'gemgate / peer':<28} {'agg tok/s':>9} {'per-stream':>10} {'decode':>7} {'TTFT':>6}"
    lines = [header, "-" * len(header)]
    for row in rows:
        label = f"/ {row['peer']}, {row['streams']} stream(s)"
        lines.append(
            f"{label:<28} {_fmt(row['aggregate_tps'], digits=2):>9} "
            f"{_fmt(row['per_stream_tps'], digits=2):>10} {_fmt(row['decode_tps'], digits=2):>7} "
            f"{_fmt(row['ttft_s'], digits=2):>6}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    bound: float
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        met = self.value >= self.bound if self.higher_is_better else self.value <= self.bound
        return "met" if met else "MISSED"

    def line(self) -> str:
        op = ">=" if self.higher_is_better else "<="
        value = _fmt(self.value, digits=2)
        return f"{self.name:<58} {value:>6} {op} {self.bound:<5} {self.verdict}"


def targets(rows: list[dict[str, Any]], max_streams: int) -> list[Target]:
    def get(peer: str, streams: int, metric: str) -> float | None:
        row = next((r for r in rows if r["peer"] == peer and r["streams"] == streams), None)
        return None if row is None else row[metric]

    found = [
        Target("1 stream tok/s, gemgate / direct", get(DIRECT, 1, "per_stream_tps"), 0.95, True),
        Target(
            f"{max_streams} streams aggregate tok/s, gemgate / llama_cpp.server",
            get(LLAMA_SERVER, max_streams, "aggregate_tps"),
            1.5,
            True,
        ),
    ]
    for streams in sorted({r["streams"] for r in rows}):
        for peer in (DIRECT, LLAMA_SERVER):
            found.append(
                Target(
                    f"{streams} stream(s) median TTFT, gemgate / {peer}",
                    get(peer, streams, "ttft_s"),
                    1.0,
                    False,
                )
            )
    return found


def same_output(results: list[ScenarioResult]) -> dict[str, bool]:
    """Did each engine's single-stream text match gemgate's (same greedy tokens)?"""
    ours = _find(results, GEMGATE, 1)
    return {
        r.engine: r.sample_text == ours.sample_text
        for r in results
        if ours is not None and r.streams == 1 and r.engine != GEMGATE
    }


def notes(results: list[ScenarioResult]) -> list[str]:
    found = {f"{r.engine}: {n}" for r in results for rnd in r.rounds for n in rnd.notes}
    for r in results:
        noisy = [rnd.foreign_cores for rnd in r.rounds if rnd.foreign_cores >= NOISY_CORES]
        if not noisy:
            continue
        verdict = (
            "all rounds disturbed: figures unreliable"
            if len(noisy) == len(r.rounds)
            else f"medians over the other {len(r.rounds) - len(noisy)}"
        )
        found.add(
            f"{r.engine}, {r.streams} stream(s): {len(noisy)} of {len(r.rounds)} rounds ran "
            f"while other processes used up to {max(noisy):.2f} cores; {verdict}"
        )
    return sorted(found)
