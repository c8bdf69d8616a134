"""Coalesces concurrent embedding calls into batched encode calls on one worker thread.

One worker, because the model already uses every core for one batch (torch intra-op
threads); several encode calls at once would only fight over them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

from gemgate.core.ports import EmbeddingOutput

Encode = Callable[[list[str]], EmbeddingOutput]
_Waiter = tuple[list[str], "asyncio.Future[EmbeddingOutput]"]


class MicroBatcher:
    """Calls waiting while a batch runs are joined into the next one (up to max_batch texts)."""

    def __init__(self, encode: Encode, executor: Executor, max_batch: int) -> None:
        self._encode = encode
        self._executor = executor
        self._max_batch = max_batch
        self._waiting: list[_Waiter] = []
        self._drainer: asyncio.Task[None] | None = None

    async def embed(self, texts: list[str]) -> EmbeddingOutput:
        future: asyncio.Future[EmbeddingOutput] = asyncio.get_running_loop().create_future()
        self._waiting.append((texts, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    def _take(self) -> list[_Waiter]:
        """Whole calls, first come first served; one call larger than max_batch runs alone."""
        taken: list[_Waiter] = []
        size = 0
        while self._waiting and (not taken or size + len(self._waiting[0][0]) <= self._max_batch):
            waiter = self._waiting.pop(0)
            taken.append(waiter)
            size += len(waiter[0])
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            group = self._take()
            texts = [text for waiter_texts, _ in group for text in waiter_texts]
            try:
                output = await loop.run_in_executor(self._executor, self._encode, texts)
            except Exception as exc:  # each caller gets the failure of its own batch
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            _deliver(group, output)


def _deliver(group: list[_Waiter], output: EmbeddingOutput) -> None:
    start = 0
    for texts, future in group:
        end = start + len(texts)
        if not future.done():
            future.set_result(
                EmbeddingOutput(output.vectors[start:end], output.token_counts[start:end])
            )
        start = end
