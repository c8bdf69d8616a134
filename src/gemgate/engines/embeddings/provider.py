"""Loads local embedding models on first use (or warms one at start) and hands them out.

Each model runs in a worker process of its own (process.py says why).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gemgate.core.errors import FailedPrecondition, NotFound
from gemgate.engines.embeddings.process import EncoderProcess
from gemgate.engines.embeddings.sentence import SentenceEmbedder, bundled_directory


@dataclass(frozen=True)
class EmbeddingModelSpec:
    id: str
    max_input_tokens: int
    path: Path | None = None
    bundled: str | None = None

    def directory(self) -> Path:
        if self.path is not None:
            return self.path
        if self.bundled is not None:
            return bundled_directory(self.bundled)
        raise FailedPrecondition(f"embedding model {self.id!r} has neither a path nor a package")


class LocalEmbedders:
    """core.ports.EmbedderProvider: one SentenceEmbedder per local embedding model id."""

    def __init__(self, specs: list[EmbeddingModelSpec], n_threads: int, max_batch: int) -> None:
        self._specs = {spec.id: spec for spec in specs}
        self._n_threads = n_threads
        self._max_batch = max_batch
        # One thread drives the worker processes: loads and encodes run one at a time, each
        # using every core.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemgate-embed")
        self._loaded: dict[str, SentenceEmbedder] = {}
        self._processes: list[EncoderProcess] = []
        self._locks = {spec.id: asyncio.Lock() for spec in specs}

    async def embedder(self, model_id: str) -> SentenceEmbedder:
        if (loaded := self._loaded.get(model_id)) is not None:
            return loaded
        spec = self._specs.get(model_id)
        if spec is None:
            raise NotFound(f"models/{model_id} is not found.", field="model")
        async with self._locks[model_id]:
            if model_id not in self._loaded:
                loop = asyncio.get_running_loop()
                directory = await loop.run_in_executor(self._executor, spec.directory)
                process = EncoderProcess(directory, spec.max_input_tokens, self._n_threads)
                self._processes.append(process)
                await loop.run_in_executor(self._executor, process.start)
                self._loaded[model_id] = SentenceEmbedder(
                    process.encode, self._executor, self._max_batch
                )
        return self._loaded[model_id]

    def loaded(self) -> list[str]:
        return list(self._loaded)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in self._processes:
            process.close()
