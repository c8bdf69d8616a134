"""What else the machine is doing: CPU used by processes outside the benchmark's own tree.

On 2 cores, llama.cpp's 2 spinning threads collapse (5-10x slower decode) when anything else
takes a core, so each round waits for a quiet machine first and records the foreign CPU it saw.
Linux only (/proc).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
QUIET_CORES = 0.15  # start a round only below this
NOISY_CORES = 0.2  # a round disturbed by this much is not trusted


def _system_busy_ticks() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle


def _stat(pid: str) -> tuple[int, int] | None:
    """(parent pid, utime + stime) of a live process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _tree_ticks(root: int) -> int:
    """CPU ticks of `root` and all its live descendants."""
    stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(p))}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += stats[pid][1] if pid in stats else 0
        todo += children.get(pid, [])
    return total


@dataclass
class CpuMeter:
    """Cores used by everything outside this process tree between start and `foreign_cores`."""

    root: int
    t0: float = 0.0
    busy0: int = 0
    ours0: int = 0

    def start(self) -> CpuMeter:
        self.t0, self.busy0, self.ours0 = (
            time.monotonic(),
            _system_busy_ticks(),
            _tree_ticks(self.root),
        )
        return self

    def foreign_cores(self) -> float:
        wall = time.monotonic() - self.t0
        busy = _system_busy_ticks() - self.busy0
        ours = _tree_ticks(self.root) - self.ours0
        return max(0.0, (busy - ours) / TICKS / wall) if wall > 0 else 0.0


def wait_quiet(max_wait_s: float, window_s: float = 1.0) -> tuple[float, float]:
    """Wait until others use under QUIET_CORES for one window; (waited s, last foreign cores)."""
    started = time.monotonic()
    while True:
        meter = CpuMeter(os.getpid()).start()
        time.sleep(window_s)
        foreign = meter.foreign_cores()
        waited = time.monotonic() - started
        if foreign < QUIET_CORES or waited >= max_wait_s:
            return waited, foreign


def wait_idle(pid: int, max_wait_s: float, window_s: float = 1.0) -> float:
    """Wait until process `pid` and its children use under QUIET_CORES for one window (a
    server that says it is ready may still be warming up); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < max_wait_s:
        t0, ticks0 = time.monotonic(), _tree_ticks(pid)
        time.sleep(window_s)
        if (_tree_ticks(pid) - ticks0) / TICKS / (time.monotonic() - t0) < QUIET_CORES:
            break
    return time.monotonic() - started


def machine_info() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
