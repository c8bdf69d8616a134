"""Files API upload throughput on loopback, and the server's memory while it runs.

Starts `gemgate serve`, uploads one file of --size MiB through the resumable protocol exactly
as google-genai sends it (8 MiB chunks, the last with `upload, finalize`), and samples the
server's resident memory (/proc/<pid>/status VmRSS) every 50 ms. Bytes stream to disk, so the
peak should stay flat whatever the size. The embedding warm-up is off so its model load does
not land inside the measurement.

    .venv/bin/python bench/uploads.py [--size 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import HOST, free_port, running_server

CHUNK = 8 * 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.05)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def upload(base: str, size: int) -> tuple[float, dict[str, object]]:
    block = os.urandom(CHUNK)
    with httpx.Client(timeout=600) as client:
        start = client.post(
            f"{base}/upload/v1beta/files",
            headers={
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": str(size),
                "X-Goog-Upload-Header-Content-Type": "application/octet-stream",
            },
            json={"file": {"display_name": "bench", "size_bytes": size}},
        )
        start.raise_for_status()
        url = start.headers["x-goog-upload-url"]
        started = time.perf_counter()
        offset, reply = 0, None
        while offset < size:
            piece = block[: min(CHUNK, size - offset)]
            last = offset + len(piece) >= size
            reply = client.post(
                url,
                content=piece,
                headers={
                    "X-Goog-Upload-Command": "upload, finalize" if last else "upload",
                    "X-Goog-Upload-Offset": str(offset),
                },
            )
            reply.raise_for_status()
            offset += len(piece)
        elapsed = time.perf_counter() - started
    assert reply is not None
    return elapsed, reply.json()["file"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB to upload")
    args = parser.parse_args()
    size = args.size * 1024 * 1024
    port = free_port()
    argv = [sys.executable, "-m", "gemgate", "serve", "--host", HOST, "--port", str(port)]
    # The embedding model's background load (~230 MB) would land inside the window.
    env = {"GEMGATE_EMBEDDING_WARMUP": "false"}
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory() as data:
        log = Path(data) / "server.log"
        with running_server([*argv, "--data-dir", data], f"{base}/healthz", log, env) as server:
            baseline = rss_mib(server.pid)
            sampler = MemorySampler(server.pid)
            sampler.start()
            elapsed, file = upload(base, size)
            peak = sampler.stop()
    result = {
        "mib": args.size,
        "seconds": elapsed,
        "mib_per_s": args.size / elapsed,
        "server_rss_baseline_mib": baseline,
        "server_rss_peak_mib": peak,
        "server_rss_growth_mib": peak - baseline,
        "file_state": file.get("state"),
        "size_bytes": file.get("sizeBytes"),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
