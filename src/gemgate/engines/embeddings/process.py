"""The embedding model in a child process of its own, driven over a pipe.

Why a process: torch and llama.cpp both link `libgomp.so.1`, so in one process they share one
OpenMP runtime. With the chat engine's thread pool alive beside torch's, libgomp counts more
threads than cores and cuts its busy-wait between parallel regions to ~1000 spins; torch's
threads then sleep and wake on a futex around each of the ~100 small operations of a MiniLM
forward pass (~240 context switches per batch of 32; measured +15-60 ms per batch on 2 cores).
In its own process torch has its own runtime and runs exactly as when called directly.
Loading torch there also leaves the server's GIL alone for the ~6 s import.

libgomp's own default is to spin ~300,000 times (~3 ms) before sleeping: made for a machine
that runs nothing else, it burns a core after every batch and, when another process takes a
core, makes each barrier wait out the full spin (2 shared cores: 0.5-1.4 s per batch instead
of ~0.4 s). 30,000 spins still cover the microseconds between a forward pass's operations.
An operator's GOMP_SPINCOUNT or OMP_WAIT_POLICY in the environment wins.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from gemgate.core.errors import FailedPrecondition, Internal, Unavailable
from gemgate.core.ports import EmbeddingOutput
from gemgate.engines.embeddings.sentence import SentenceModel, rounded_output

_STOP_GRACE_S = 5.0
_GOMP_SPIN_COUNT = "30000"


def _serve(conn: Connection, directory: Path, max_input_tokens: int, n_threads: int) -> None:
    """The child's main: load, say so, then encode each list of texts until told to stop."""
    # Ctrl-C reaches the whole process group; the server stops this process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Read once, when torch's import loads libgomp: so before SentenceModel.load.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", _GOMP_SPIN_COUNT)
    try:
        model = SentenceModel.load(directory, max_input_tokens, n_threads)
    except FailedPrecondition as exc:
        conn.send(("failed_precondition", exc.message))
        return
    except Exception as exc:  # reported to the parent, which raises it where it was asked
        conn.send(("internal", f"loading the embedding model failed: {exc!r}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            texts = conn.recv()
        except EOFError:  # the server is gone
            return
        if texts is None:
            return
        try:
            conn.send(("ok", model.encode(texts)))
        except Exception as exc:  # one bad batch fails its callers, not the process
            conn.send(("internal", f"embedding failed: {exc!r}"))


def _raise_for(kind: str, payload: Any) -> None:
    if kind == "failed_precondition":
        raise FailedPrecondition(str(payload))
    if kind not in ("ok", "ready"):
        raise Internal(str(payload))


class EncoderProcess:
    """One child process holding one model. Blocking calls: use from one worker thread."""

    def __init__(self, directory: Path, max_input_tokens: int, n_threads: int) -> None:
        self._args = (directory, max_input_tokens, n_threads)
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Spawn (never fork: the server runs threads) and wait until the model is loaded."""
        context = multiprocessing.get_context("spawn")
        conn, child_conn = context.Pipe()
        process = context.Process(
            target=_serve, args=(child_conn, *self._args), name="gemgate-embed", daemon=True
        )
        process.start()
        child_conn.close()
        self._process, self._conn = process, conn
        try:
            kind, payload = conn.recv()
        except EOFError:
            self.close()
            raise Unavailable("the embedding worker process exited while loading") from None
        if kind != "ready":
            self.close()
        _raise_for(kind, payload)

    def encode(self, texts: list[str]) -> EmbeddingOutput:
        """A worker that died (killed, out of memory) is replaced and the call retried once:
        encoding is a pure function of the texts, so a second try is safe."""
        try:
            kind, payload = self._call(texts)
        except (EOFError, OSError):
            self.close()
            try:
                kind, payload = self._call(texts)
            except (EOFError, OSError):
                self.close()
                raise Unavailable("the embedding worker process stopped twice") from None
        _raise_for(kind, payload)
        vectors, counts = payload
        return rounded_output(vectors, counts)

    def _call(self, texts: list[str]) -> tuple[str, Any]:
        if self._process is None or not self._process.is_alive():
            self.close()
            self.start()
        assert self._conn is not None
        self._conn.send(texts)
        kind, payload = self._conn.recv()
        return kind, payload

    def close(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None and process.is_alive():
            process.terminate()
            process.join(_STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join(_STOP_GRACE_S)
