"""Server subprocesses: start on a free loopback port, wait until healthy, always stop.

Each server gets its own process group, so stopping it also stops anything it spawned.
Its stdout/stderr go to a log file whose tail is shown if it fails to come up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from machine import wait_idle

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerFailed(RuntimeError):
    pass


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_s)


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerFailed(f"exited with {proc.returncode}:\n{_log_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return
            time.sleep(0.25)
    raise ServerFailed(f"not healthy at {url} after {timeout_s:.0f} s:\n{_log_tail(log)}")


@dataclass(frozen=True)
class Startup:
    healthy_s: float  # start .. health check answered 200
    idle_s: float  # health check .. the server's own CPU use fell quiet (background warm-up)
    pid: int = 0


@contextlib.contextmanager
def running_server(
    argv: Sequence[str],
    health_url: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 120.0,
) -> Iterator[Startup]:
    """Run `argv` until the block ends; yields how long it took to become healthy, then idle."""
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        _wait_healthy(proc, health_url, log, timeout_s)
        healthy = time.monotonic() - started
        yield Startup(healthy, wait_idle(proc.pid, timeout_s), proc.pid)
    finally:
        _stop(proc)
