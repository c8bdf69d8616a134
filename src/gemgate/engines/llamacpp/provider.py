"""Loads local models on first use (or at start) and hands out their engines."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from gemgate.core.errors import FailedPrecondition, NotFound
from gemgate.engines.llamacpp.bundled import bundled_path
from gemgate.engines.llamacpp.engine import EngineOptions, LlamaCppEngine


@dataclass(frozen=True)
class LocalModelSpec:
    id: str
    options: EngineOptions
    path: Path | None = None
    bundled: str | None = None

    def resolve_path(self, cache_dir: Path) -> Path:
        if self.path is not None:
            if not self.path.is_file():
                raise FailedPrecondition(f"model file for {self.id!r} not found: {self.path}")
            return self.path
        if self.bundled is not None:
            return bundled_path(self.bundled, cache_dir)
        raise FailedPrecondition(f"model {self.id!r} has neither a path nor a bundled package")


class LocalEngines:
    """core.ports.EngineProvider over llama.cpp: one engine per local model id."""

    def __init__(self, specs: list[LocalModelSpec], executor: Executor, cache_dir: Path):
        self._specs = {spec.id: spec for spec in specs}
        self._executor = executor
        self._cache_dir = cache_dir
        self._engines: dict[str, LlamaCppEngine] = {}
        self._locks = {spec.id: asyncio.Lock() for spec in specs}

    async def engine(self, model_id: str) -> LlamaCppEngine:
        if (loaded := self._engines.get(model_id)) is not None:
            return loaded
        spec = self._specs.get(model_id)
        if spec is None:
            raise NotFound(f"models/{model_id} is not found.", field="model")
        async with self._locks[model_id]:
            if model_id not in self._engines:
                self._engines[model_id] = await asyncio.to_thread(self._load, spec)
        return self._engines[model_id]

    def _load(self, spec: LocalModelSpec) -> LlamaCppEngine:
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        path = spec.resolve_path(self._cache_dir)
        return LlamaCppEngine.load(path, spec.options, self._executor)

    def loaded(self) -> dict[str, LlamaCppEngine]:
        return dict(self._engines)

    async def aclose(self) -> None:
        for engine in self._engines.values():
            await engine.aclose()
