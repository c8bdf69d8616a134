"""The embedding worker process with the bundled MiniLM: same vectors as sentence-transformers
called directly, token counts from the model's own tokenizer, restart after a crash."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gemgate.core.errors import FailedPrecondition
from gemgate.engines.embeddings.process import EncoderProcess
from gemgate.engines.embeddings.sentence import bundled_directory

TEXTS = [
    "The cat sleeps on the mat.",
    "A kitten",
    "Stock markets fell sharply after the announcement of new tariffs on imported steel.",
    "Ünïcödé and emoji 🚀 are tokenized too",
]


@pytest.fixture(scope="module")
def directory() -> Path:
    return bundled_directory("minilm")


@pytest.fixture(scope="module")
def worker(directory: Path) -> Iterator[EncoderProcess]:
    process = EncoderProcess(directory, max_input_tokens=256, n_threads=2)
    process.start()
    yield process
    process.close()


@pytest.fixture(scope="module")
def direct(directory: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(directory), device="cpu", local_files_only=True)


def test_vectors_match_sentence_transformers_encode(worker: EncoderProcess, direct: Any) -> None:
    served = np.array(worker.encode(TEXTS).vectors)
    expected = direct.encode(TEXTS, batch_size=len(TEXTS), show_progress_bar=False)
    assert served.shape == expected.shape == (len(TEXTS), 384)
    assert np.abs(served - expected).max() < 1e-6


def test_token_counts_are_the_model_tokenizers(worker: EncoderProcess, direct: Any) -> None:
    expected = [len(ids) for ids in direct.tokenizer(TEXTS)["input_ids"]]
    assert worker.encode(TEXTS).token_counts == expected


def test_runs_in_a_process_of_its_own(worker: EncoderProcess) -> None:
    assert worker.pid is not None and worker.pid != os.getpid()


def _wait_until_dead(pid: int) -> None:
    """Until the kernel has stopped its main thread (a zombie): its other threads may still
    be exiting, so the worker may yet see it alive and find the pipe broken."""
    deadline = time.monotonic() + 10
    stat = Path(f"/proc/{pid}/stat")
    while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the killed worker is still running"
        time.sleep(0.02)


def test_a_killed_worker_is_replaced_and_the_call_answered(worker: EncoderProcess) -> None:
    old = worker.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    _wait_until_dead(old)
    output = worker.encode(["still answers"])
    assert len(output.vectors) == 1 and output.token_counts == [4]
    assert worker.pid not in (None, old)


def test_inputs_stop_at_the_configured_token_limit(directory: Path) -> None:
    process = EncoderProcess(directory, max_input_tokens=8, n_threads=1)
    try:
        process.start()
        assert process.encode([" ".join(["word"] * 50), "short"]).token_counts == [8, 3]
    finally:
        process.close()
    assert process.pid is None


def test_a_directory_without_a_model_is_a_failed_precondition(tmp_path: Path) -> None:
    process = EncoderProcess(tmp_path, max_input_tokens=256, n_threads=1)
    with pytest.raises(FailedPrecondition, match="not a sentence-transformers model directory"):
        process.start()
    assert process.pid is None
